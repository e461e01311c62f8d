#!/usr/bin/env bash
# The cross-runtime differential test (issue 11; docs/security.md): generates
# COUNT random and mutated cases from the conformance vectors, each decided by
# the native core (tests/differential/src), and replays them through the CLI,
# the Python wheel, the Node addon and the WebAssembly build in Node. Any
# difference in any field of the decision but `detail` fails, and the
# smallest differing case is printed. A canary (one case with a wrong
# expectation) first proves each runtime really compares.
# Needs the bindings built by their test.sh (scripts/test.sh runs those first).
#   tests/differential/run.sh                  # 12,000 cases, seed 1
#   MFAGATE_DIFF_SEED=7 MFAGATE_DIFF_COUNT=50000 tests/differential/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
ensure_rust
COUNT="${MFAGATE_DIFF_COUNT:-12000}"
SEED="${MFAGATE_DIFF_SEED:-1}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
PY="${MFAGATE_VENV:-$PWD/bindings-python/.venv}/bin/python"
for need in "$PY" bindings-node/lib/index.js bindings-wasm/pkg/node.mjs; do
  [ -e "$need" ] || { echo "differential: $need is missing; run scripts/test.sh (it builds every binding first)" >&2; exit 1; }
done
ls bindings-node/*.node >/dev/null 2>&1 || { echo "differential: the Node addon is not built (bash bindings-node/test.sh)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/mfagate-differential.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cargo build -q -p mfagate-differential
cargo build -q -p mfagate-cli
"$TARGET/debug/mfagate-differential" --count "$COUNT" --seed "$SEED" --out "$WORK/cases" 2> "$WORK/gen.log" \
  || { cat "$WORK/gen.log" >&2; exit 1; }
head -1 "$WORK/gen.log"

run_runtime() { # name dir command...
  local name="$1" dir="$2"; shift 2
  "$@" "$dir" > "$WORK/$name.log" 2>&1
}
RUNTIMES=(cli python node wasm)
cmd() {
  case "$1" in
    cli) echo "$TARGET/debug/mfagate vectors" ;;
    python) echo "$PY tests/differential/run_python.py" ;;
    node) echo "node tests/differential/run_js.mjs node" ;;
    wasm) echo "node tests/differential/run_js.mjs wasm" ;;
  esac
}

python3 tests/differential/report.py canary "$WORK/cases" "$WORK/canary"
for r in "${RUNTIMES[@]}"; do
  # shellcheck disable=SC2046
  if run_runtime "$r-canary" "$WORK/canary" $(cmd "$r"); then
    echo "differential: $r passed the canary's wrong expectation: it does not compare" >&2; cat "$WORK/$r-canary.log" >&2; exit 1
  fi
  grep -q "diff-canary" "$WORK/$r-canary.log" \
    || { echo "differential: $r failed the canary without naming it:" >&2; cat "$WORK/$r-canary.log" >&2; exit 1; }
done
echo "canary: each of ${RUNTIMES[*]} reports the wrong expectation"

failed=()
for r in "${RUNTIMES[@]}"; do
  start=$(date +%s)
  # shellcheck disable=SC2046
  if run_runtime "$r" "$WORK/cases" $(cmd "$r"); then
    echo "$r: $(grep -E '[0-9]+ passed, [0-9]+ failed' "$WORK/$r.log" | tail -1) in $(( $(date +%s) - start )) s"
  else
    failed+=("$r")
    echo "$r: DIFFERS from the native core: $(grep -E '[0-9]+ passed, [0-9]+ failed' "$WORK/$r.log" | tail -1)"
    grep -m 5 FAIL "$WORK/$r.log" || tail -20 "$WORK/$r.log"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  logs=(); for r in "${failed[@]}"; do logs+=("$WORK/$r.log"); done
  python3 tests/differential/report.py smallest "$WORK/cases" "${logs[@]}"
  echo "differential: ${failed[*]} differ from the native core (seed $SEED; replay with MFAGATE_DIFF_SEED=$SEED)" >&2
  exit 1
fi
echo "differential: $COUNT cases, seed $SEED: native core, CLI, Python, Node and WebAssembly agree"
