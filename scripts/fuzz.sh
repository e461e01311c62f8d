#!/usr/bin/env bash
# Fuzzes every target of fuzz/ for SECONDS each (default 60), on the
# nightly toolchain the machine ships, from corpora seeded from the
# conformance vectors. Without AddressSanitizer: the core has no unsafe
# code, and the properties (not memory errors) are what is checked; it runs
# several times faster. Prints executions and coverage per target; fails on
# the first crash or broken property (libFuzzer keeps the input in
# fuzz/artifacts/<target>/: add it as a vector, see docs/security.md).
#   scripts/fuzz.sh            # every target for 60 s
#   scripts/fuzz.sh 900        # a long run
#   scripts/fuzz.sh --build    # only the toolchain, the corpora and the build
#   scripts/fuzz.sh --run 45   # only the runs, on that build (scripts/test.sh
#                              # builds beside its first builds, runs later)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
PHASES="build run"
case "${1:-}" in
  --build) PHASES="build"; shift ;;
  --run) PHASES="run"; shift ;;
esac
SECONDS_PER_TARGET="${1:-60}"
if [[ " $PHASES " == *" build "* ]]; then
  if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "== installing the nightly toolchain (libFuzzer's instrumentation needs it)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
  fi
  python3 fuzz/seed.py
  (cd fuzz && cargo +nightly fuzz build -O --sanitizer none)
fi
[[ " $PHASES " == *" run "* ]] || exit 0
for target in token claims signed policy path; do
  step "fuzz $target (${SECONDS_PER_TARGET} s)"
  log="$(mktemp)"
  set +e
  (cd fuzz && cargo +nightly fuzz run -O --sanitizer none "$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) >"$log" 2>&1
  status=$?
  set -e
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$log" | tail -3 || true
  if [ $status -ne 0 ]; then
    tail -60 "$log"
    echo "fuzz target $target failed: its input is in fuzz/artifacts/$target/" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
done
