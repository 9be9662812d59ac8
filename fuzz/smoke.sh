#!/usr/bin/env bash
# Runs every fuzz target for a bounded number of inputs: a smoke test for CI, not a campaign.
#
#   fuzz/smoke.sh            # 50,000 runs per target
#   FUZZ_RUNS=1000000 fuzz/smoke.sh
#
# Each target starts from the committed seeds (fuzz/seeds/<target>, made from the shared
# vectors) and the local corpus (fuzz/corpus/<target>, not committed). A crash leaves its input
# in fuzz/artifacts/<target>/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")"

runs=${FUZZ_RUNS:-50000}
# cargo-fuzz needs a nightly compiler for -Zsanitizer; use the rustup nightly if there is one,
# otherwise let the stable compiler accept nightly flags.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
# The C code is instrumented too (zephyr-app/host/build.rs); clang gives libFuzzer its coverage.
if command -v clang >/dev/null; then
  export CC=clang
fi

targets=$("${fuzz[@]}" list)
"${fuzz[@]}" build
for target in $targets; do
  mkdir -p "corpus/$target"
  echo "== $target: $runs runs"
  log="corpus/$target.log"
  if ! "${fuzz[@]}" run "$target" "corpus/$target" "seeds/$target" -- \
      -runs="$runs" -max_len=320 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz smoke: $target failed; the crashing input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^(INFO: seed corpus|#[0-9]+ *DONE|stat::number_of_executed_units)' "$log"
done
echo "fuzz smoke: all targets passed $runs runs"
