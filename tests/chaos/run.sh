#!/usr/bin/env bash
# JWKS chaos under load (issue 11; docs/bindings.md, "JWKS caches"): a local
# JWKS endpoint flaps (down, slow, garbage, 500, oversize, rotated, A removed,
# emptied, good again) while 16 keep-alive clients send Partner Center API
# calls with good, removed, never-served and forged tokens to each target in
# turn: the Python ASGI middleware in Starlette under uvicorn, the Node
# Express middleware over a JwksGate, mfagate-serve (nginx and forward
# protocols), and the WebAssembly JwksCache in node:http. tests/chaos/chaos.py
# says what is asserted. A self-check first proves the analysis reports each
# kind of violation; each run's own records are checked the same way.
# Needs the bindings built by their test.sh (scripts/test.sh runs those first).
#   tests/chaos/run.sh                          # every target, about 2.5 min
#   MFAGATE_CHAOS_TARGETS="python serve" tests/chaos/run.sh
#   MFAGATE_SERVE_BIN=path/to/mfagate-serve tests/chaos/run.sh   # that binary
#       (scripts/test.sh: the release one of dist/serve/) instead of a build
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
ensure_rust
start=$(date +%s)
PY="${MFAGATE_VENV:-$PWD/bindings-python/.venv}/bin/python"
TARGETS="${MFAGATE_CHAOS_TARGETS:-python node serve wasm}"

missing() { echo "chaos: $1 is missing; $2 (scripts/test.sh builds every binding first)" >&2; exit 1; }
[ -x "$PY" ] || missing "$PY" "run bash bindings-python/test.sh"
"$PY" -c 'import mfagate, uvicorn, starlette, jwt, cryptography' 2>/dev/null \
  || missing "mfagate, uvicorn, starlette, PyJWT or cryptography in $PY" "run bash bindings-python/test.sh"
command -v node >/dev/null || missing "node" "install Node 20 or later"
for t in $TARGETS; do
  case "$t" in
    node)
      ls bindings-node/*.node >/dev/null 2>&1 || missing "the Node addon (bindings-node/*.node)" "run bash bindings-node/test.sh"
      [ -d bindings-node/node_modules/express ] || missing "bindings-node/node_modules/express" "run bash bindings-node/test.sh" ;;
    wasm) [ -e bindings-wasm/pkg/node.mjs ] || missing "bindings-wasm/pkg/node.mjs" "run bash bindings-wasm/test.sh" ;;
    serve) [ -n "${MFAGATE_SERVE_BIN:-}" ] || cargo build -q -p mfagate-serve || missing "mfagate-serve" "cargo build -p mfagate-serve failed" ;;
    python) ;;
    *) echo "chaos: unknown target $t (python, node, serve, wasm)" >&2; exit 2 ;;
  esac
done

WORK="$(mktemp -d /tmp/mfagate-chaos.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
"$PY" tests/chaos/chaos.py selfcheck

failed=()
for t in $TARGETS; do
  t0=$(date +%s)
  if "$PY" tests/chaos/chaos.py run "$t" "$WORK/$t" "$WORK/summary.jsonl"; then
    echo "chaos: $t passed in $(( $(date +%s) - t0 )) s"
  else
    failed+=("$t")
    echo "chaos: $t FAILED (its logs: $WORK/$t, kept)"
    trap - EXIT
  fi
done
echo
[ -s "$WORK/summary.jsonl" ] && "$PY" tests/chaos/chaos.py table "$WORK/summary.jsonl"
echo "chaos: $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "chaos: ${failed[*]} broke a JWKS rule under load (VIOLATION lines above)" >&2
  exit 1
fi
echo "chaos: every target kept the JWKS rules under load (ttl 2 s, min refresh 1 s, timeout 0.5 s, max 8192 bytes)"
