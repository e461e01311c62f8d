#!/usr/bin/env bash
# Leak and stability runs (issue 11; figures in docs/security.md): 10^6
# decisions in each binding with resident memory measured through the run:
# Python on one thread and on 8, Node with evaluate and evaluateAsync, the
# WebAssembly build in Node. Needs the bindings built by their test.sh.
#   tests/soak/run.sh [EVALUATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-1000000}"
PY="${MFAGATE_VENV:-$PWD/bindings-python/.venv}/bin/python"
"$PY" tests/soak/soak.py "$N"
node --expose-gc tests/soak/soak.mjs node "$N"
node --expose-gc tests/soak/soak.mjs wasm "$N"
