#!/usr/bin/env bash
# Installs what build.sh needs when it is missing: the wasm32 Rust target,
# wasm-pack, the wasm-bindgen CLI of exactly Cargo.lock's wasm-bindgen, and
# the npm tools (binaryen's wasm-opt among them). Used by test.sh and
# scripts/dist.sh. Idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
cd "$HERE"
export PATH="$HOME/.cargo/bin:$PATH"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! command -v wasm-pack >/dev/null 2>&1; then
  cargo install wasm-pack
fi
# wasm-pack needs a wasm-bindgen CLI of exactly the wasm-bindgen crate's version.
WBG_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
if [[ -z "$WBG_VERSION" ]]; then echo "wasm-bindgen is not in Cargo.lock" >&2; exit 1; fi
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]]; then
  cargo install wasm-bindgen-cli --version "$WBG_VERSION"
fi
if [[ ! -x node_modules/.bin/wasm-opt || ! -x node_modules/.bin/workerd || ! -d node_modules/playwright-core || ! -x node_modules/.bin/tsc || ! -d node_modules/jose ]]; then
  npm install --no-audit --no-fund
fi
