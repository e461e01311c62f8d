#!/usr/bin/env bash
# The one script for mfagate-wasm: installs what is missing (Rust target,
# wasm-pack, wasm-bindgen-cli of the Cargo.lock version, npm tools, Debian's
# Chromium), builds the package, and runs every test:
#   - unit tests and conformance vectors in Node (nodejs build)
#   - conformance vectors in headless Chromium (web build)
#   - conformance vectors in workerd (web build as a module worker)
#   - TypeScript types (tsc --noEmit over a typed usage file)
#   - examples/edge-worker in workerd with a local origin (real HTTP)
#   - examples/inspector in headless Chromium (type, click, read, screenshot)
# Exits non-zero on any failure. Idempotent; fast when warm.
#   BENCH=1 bash bindings-wasm/test.sh   also runs the benchmarks.
#   bash bindings-wasm/test.sh --prepare   only the installs (scripts/test.sh
#                                          runs it beside the first builds)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
cd "$HERE"
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n== %s\n' "$*"; }

step "toolchain"
bash tools.sh
if [[ ! -x /usr/bin/chromium ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update && apt-get install -y chromium
fi
if [[ "${1:-}" == --prepare ]]; then exit 0; fi
echo "wasm-pack $(wasm-pack --version | awk '{print $2}'), wasm-bindgen $(wasm-bindgen --version | awk '{print $2}'), $(node_modules/.bin/wasm-opt --version | cut -d' ' -f1-3), workerd $(node_modules/.bin/workerd --version | awk '{print $2}'), $(/usr/bin/chromium --version 2>/dev/null | head -1)"

step "build (wasm-pack: web, bundler, nodejs; wasm-opt)"
bash build.sh
node bench/size.mjs

FAILED=()
run() { local name="$1"; shift; step "$name"; if ! "$@"; then FAILED+=("$name"); fi; }

run "node: unit tests" node --test tests/node.test.mjs tests/webcrypto.test.mjs tests/discovery.test.mjs tests/cache.test.mjs tests/transport.test.mjs
run "node: conformance vectors" node tests/vectors-node.mjs
run "bundler build (node --experimental-wasm-modules)" node --no-warnings --experimental-wasm-modules tests/bundler-smoke.mjs
run "chromium: conformance vectors" node tests/vectors-chromium.mjs
run "chromium: JwksCache" node --test tests/jwks-chromium.mjs
run "workerd: conformance vectors" node tests/vectors-workerd.mjs
run "typescript: tsc --noEmit" node_modules/.bin/tsc -p tests/types/tsconfig.json
run "examples/edge-worker in workerd" node --test "$ROOT/examples/edge-worker/test.mjs"
run "examples/inspector in chromium" node --test "$ROOT/examples/inspector/test.mjs"
if [[ "${BENCH:-0}" == "1" ]]; then
  mkdir -p bench/artifacts
  run "bench: node" node bench/node.mjs --json bench/artifacts/node.json
  run "bench: chromium" node bench/chromium.mjs --json bench/artifacts/chromium.json
fi

step "summary"
if (( ${#FAILED[@]} > 0 )); then
  printf 'FAILED: %s\n' "${FAILED[@]}"
  exit 1
fi
echo "mfagate-wasm: all suites passed"
