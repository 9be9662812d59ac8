#!/usr/bin/env bash
# The C device's connect + TLS handshake time: runs the firmware's host build (wasmbed-device,
# mbedTLS) against a dev-mode gateway RUNS times and reads, from the device's own log, the time
# from "Connecting to gateway with TLS" to "Connected to gateway via TLS". The device logs its
# uptime in milliseconds, so each sample is good to 1 ms. Writes the percentiles as JSON for
# bench-report (default target/loadgen/c-device.json).
#
# Usage: benches/c-device-handshake.sh [--runs N] [--json FILE]
# Needs what wasmbed-device needs to build (libmbedtls-dev) and python3. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=30
json=target/loadgen/c-device.json
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v python3 >/dev/null || { echo "python3 is needed to read the logs" >&2; exit 2; }

cargo build --release --quiet -p wasmbed-gateway -p wasmbed-device --bins
gateway=target/release/wasmbed-gateway
device=target/release/wasmbed-device

work=$(mktemp -d)
gateway_pid=""
cleanup() {
  if [[ -n "$gateway_pid" ]]; then
    kill "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$gateway" --tls-addr 127.0.0.1:0 --api-addr 127.0.0.1:0 --state-dir "$work/state" >"$work/gateway.log" 2>&1 &
gateway_pid=$!
addr=""
for _ in $(seq 300); do
  addr=$(sed -n 's/.*Starting TLS server on \([0-9.:]*\).*/\1/p' "$work/gateway.log" | head -1)
  [[ -n "$addr" ]] && break
  sleep 0.1
done
[[ -n "$addr" ]] || { echo "the gateway did not start:" >&2; cat "$work/gateway.log" >&2; exit 1; }
"$gateway" endpoint encode "$addr" >"$work/device.resc"

for i in $(seq "$runs"); do
  # The device keeps its session until stopped; one second is ample for it to connect.
  timeout 1 "$device" --resc "$work/device.resc" --device-id "c-bench-$i" >"$work/device-$i.log" 2>&1 || true
done

python3 - "$json" "$runs" "$work" <<'PY'
import json, os, re, sys
out, runs, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stamp = re.compile(r"^\[(\d+):(\d+):(\d+)\.(\d+),(\d+)\]")
def ms(line):
    h, m, s, milli, micro = map(int, stamp.match(line).groups())
    return ((h * 60 + m) * 60 + s) * 1000 + milli + micro / 1000
samples, failed = [], 0
for i in range(1, runs + 1):
    start = end = None
    for line in open(f"{work}/device-{i}.log", errors="replace"):
        if "Connecting to gateway with TLS" in line and start is None:
            start = ms(line)
        elif "Connected to gateway via TLS" in line and start is not None:
            end = ms(line)
            break
    if end is None:
        failed += 1
    else:
        samples.append((end - start) * 1000)
if not samples:
    sys.exit(f"no device connected in {runs} runs; see the logs in {work}")
samples.sort()
pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
report = {
    "tool": "benches/c-device-handshake.sh",
    "runs": runs, "failed": failed, "resolution_us": 1000,
    "handshake": {"count": len(samples), "min_us": samples[0], "p50_us": pick(0.5),
                  "p90_us": pick(0.9), "max_us": samples[-1]},
}
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
json.dump(report, open(out, "w"), indent=2)
print(json.dumps(report["handshake"]), f"failed: {failed}")
PY
echo "wrote $json" >&2
