#!/usr/bin/env bash
# Side by side: the same TLS handshake load against nginx (stream module, OpenSSL) and the
# wasmbed gateway, in one run, with the same ECDSA P-256 certificate, TLS 1.3 and X25519.
# Prints server CPU per handshake, handshake latency and rate for each, and the ratios
# ("gateway advantage": above 1 means the gateway is ahead).
#
# Usage: benches/nginx-compare.sh [--handshakes N] [--concurrency C] [--resume] [--install]
#                                 [--out DIR]
#
# Needs nginx with the stream module (Debian: nginx libnginx-mod-stream); with --install, run
# as root on Debian, it installs them with apt-get when they are missing. nginx runs only as
# this script's child on 127.0.0.1 and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

handshakes=20000
concurrency=2
resume=()
install=0
out=target/nginx-compare
while (($#)); do
  case "$1" in
    --handshakes) handshakes="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --resume) resume=(--resume); shift ;;
    --install) install=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
if ((install)) && { ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]] || [[ ! -f "$stream_module" ]]; }; then
  [[ $(id -u) -eq 0 ]] || { echo "--install needs root (apt-get)" >&2; exit 2; }
  echo "installing nginx and its stream module with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx \
    libnginx-mod-stream >/dev/null
  # The package starts a system nginx on port 80; this script runs its own instance.
  systemctl stop nginx 2>/dev/null || service nginx stop 2>/dev/null || true
fi
nginx_bin=$(command -v nginx || true)
[[ -z "$nginx_bin" && -x /usr/sbin/nginx ]] && nginx_bin=/usr/sbin/nginx
if [[ -z "$nginx_bin" ]]; then
  echo "nginx is not installed: rerun with --install (as root), or apt-get install nginx libnginx-mod-stream" >&2
  exit 2
fi
if [[ ! -f "$stream_module" ]]; then
  echo "nginx's stream module ($stream_module) is missing: rerun with --install (as root), or apt-get install libnginx-mod-stream" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "python3 is needed to read the results" >&2; exit 2; }

cargo build --release --quiet -p wasmbed-gateway -p wasmbed-benches --bins
gateway=target/release/wasmbed-gateway
loadgen=target/release/wasmbed-loadgen

mkdir -p "$out"
work=$(mktemp -d)
nginx_pid=""
cleanup() {
  if [[ -n "$nginx_pid" ]]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# One CA and one ECDSA P-256 certificate for both servers.
"$gateway" pki ca --out-dir "$work" --name ca >/dev/null
"$gateway" pki gateway --ca-cert "$work/ca.pem" --ca-key "$work/ca-key.pem" \
  --san localhost --san 127.0.0.1 --out-dir "$work" >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
workers=$(nproc)
cat >"$work/nginx.conf" <<CONF
load_module $stream_module;
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
stream {
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $work/gateway.pem;
    ssl_certificate_key $work/gateway-key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1;
    ssl_session_cache shared:wasmbed:10m;
    ssl_session_tickets on;
    # Handshake, then close: the same work the gateway does for a client that leaves.
    return "";
  }
}
CONF
"$nginx_bin" -t -q -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
"$nginx_bin" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.05
done

common=(--mode handshakes --handshakes "$handshakes" --concurrency "$concurrency"
  --ca "$work/ca.pem" --server-name localhost --tls-version 1.3 --key-exchange x25519
  "${resume[@]}" --progress-secs 5)

echo "== nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///') ($workers workers), 127.0.0.1:$port" >&2
"$loadgen" "${common[@]}" --target "127.0.0.1:$port" --server-pid "$nginx_pid" --server-children \
  --json "$out/nginx.json" >/dev/null
echo "== wasmbed-gateway" >&2
# A production gateway needs an API token; the load tool does not use the API.
(umask 077; openssl rand -hex 32 > "$work/api-token")
"$loadgen" "${common[@]}" --spawn-gateway "$gateway" \
  --gateway-arg="--cert=$work/gateway.pem" --gateway-arg="--key=$work/gateway-key.pem" \
  --gateway-arg="--api-token-file=$work/api-token" \
  --json "$out/gateway.json" >/dev/null

python3 - "$out/nginx.json" "$out/gateway.json" <<'PY'
import json, sys
nginx, gateway = (json.load(open(p)) for p in sys.argv[1:3])
def row(name, get, unit, lower_is_better=True):
    n, g = get(nginx), get(gateway)
    advantage = (n / g if lower_is_better else g / n) if n and g else float("nan")
    print(f"| {name} | {n:.1f} {unit} | {g:.1f} {unit} | {advantage:.2f}x |")
for r, who in ((nginx, "nginx"), (gateway, "gateway")):
    if r["errors"] or r["handshakes"]["ok"] == 0:
        sys.exit(f"{who}: errors {r['errors']}, {r['handshakes']['ok']} handshakes; no comparison")
kinds = "; ".join(f"{who}: {r['handshakes']['full']} full, {r['handshakes']['resumed']} resumed"
                  for r, who in ((nginx, "nginx"), (gateway, "gateway")))
print(f"TLS 1.3 handshakes, X25519, ECDSA P-256, {gateway['config']['concurrency']} at a time "
      f"({kinds}); load average {gateway['machine']['loadavg']}")
print("| figure | nginx | wasmbed-gateway | gateway advantage |")
print("| --- | --- | --- | --- |")
row("server CPU per handshake", lambda r: r["server"]["cpu_per_handshake_us"], "µs")
row("connect + handshake p50", lambda r: r["handshakes"]["latency"]["p50_us"], "µs")
row("connect + handshake p99", lambda r: r["handshakes"]["latency"]["p99_us"], "µs")
row("handshakes per second", lambda r: r["handshakes"]["per_sec"], "/s", lower_is_better=False)
PY
echo "results: $out/nginx.json, $out/gateway.json" >&2
