#!/usr/bin/env bash
# Builds mfagate-wasm with wasm-pack for the web, bundler and nodejs targets,
# shrinks each module with binaryen's wasm-opt (from npm), and assembles the
# npm package `mfagate-wasm` in bindings-wasm/pkg/. Needs the tools test.sh
# installs. Fast when nothing changed (cargo and the stamp below skip work).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
PKG="${MFAGATE_WASM_PKG:-$HERE/pkg}"
WASM_OPT="$HERE/node_modules/.bin/wasm-opt"
# The wasm32 release build (profile settings by environment, so the
# workspace's native release profile is untouched). Speed-tuned by default
# (opt-level 3, wasm-opt -O3); for the smallest module instead:
#   MFAGATE_WASM_OPT_LEVEL=s MFAGATE_WASM_OPT=-Oz bash build.sh
# (docs/benchmarks/wasm.md has both sets of numbers).
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${MFAGATE_WASM_OPT_LEVEL:-3}"
export CARGO_PROFILE_RELEASE_PANIC=abort
OPT_FLAGS=("${MFAGATE_WASM_OPT:--O3}" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

# Inputs of the build: when none changed since the last one, skip it.
stamp_inputs() {
  { find "$HERE/src" "$HERE/js" "$HERE/../core/src" "$HERE/../core/policies" -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum "$HERE/Cargo.toml" "$HERE/../core/Cargo.toml" "$HERE/../Cargo.lock" "$HERE/build.sh"
    echo "$CARGO_PROFILE_RELEASE_OPT_LEVEL ${OPT_FLAGS[*]}"; } | sha256sum | cut -d' ' -f1
}
STAMP="$(stamp_inputs)"
if [[ -f "$PKG/.stamp" && "$(cat "$PKG/.stamp")" == "$STAMP" && -f "$PKG/web/mfagate_wasm_bg.wasm" ]]; then
  echo "build: pkg/ is up to date"
  exit 0
fi

rm -rf "$PKG"
for target in web bundler nodejs; do
  out="$PKG/${target/nodejs/node}"
  wasm-pack --log-level warn build "$HERE" --release --target "$target" \
    --out-dir "$out" --out-name mfagate_wasm --no-typescript
  "$WASM_OPT" "${OPT_FLAGS[@]}" "$out/mfagate_wasm_bg.wasm" -o "$out/mfagate_wasm_bg.wasm"
  rm -f "$out/.gitignore" "$out/README.md" "$out/LICENSE"*
done
# The glue's own package.json files only say which module system it uses.
echo '{ "type": "module" }' > "$PKG/web/package.json"
echo '{ "type": "module", "sideEffects": ["./mfagate_wasm.js", "./snippets/*"] }' > "$PKG/bundler/package.json"
echo '{ "type": "commonjs" }' > "$PKG/node/package.json"

cp js/errors.js js/jwks.js js/web.js js/bundler.js js/node.cjs js/node.mjs js/index.d.ts js/types.d.ts "$PKG/"
# CommonJS copies of the two shared ES modules, for require().
to_cjs() { sed -e 's/^export class /class /; s/^export function /function /' "$1"; echo "module.exports = { $2 };"; }
to_cjs js/errors.js "MfagateError, PolicyError, JwksError, UsageError" > "$PKG/errors.cjs"
to_cjs js/jwks.js "bindJwks" > "$PKG/jwks.cjs"

VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' ../Cargo.toml | head -1)"
cat > "$PKG/package.json" <<JSON
{
  "name": "mfagate-wasm",
  "version": "$VERSION",
  "description": "Partner Center MFA enforcement for browsers, edge workers and Node: mfagate compiled to WebAssembly",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "types": "./index.d.ts",
  "main": "./node.cjs",
  "module": "./bundler.js",
  "exports": {
    ".": {
      "types": "./index.d.ts",
      "workerd": "./web.js",
      "worker": "./web.js",
      "node": { "import": "./node.mjs", "require": "./node.cjs" },
      "browser": "./bundler.js",
      "default": "./bundler.js"
    },
    "./web": { "types": "./index.d.ts", "default": "./web.js" },
    "./bundler": { "types": "./index.d.ts", "default": "./bundler.js" },
    "./node": { "types": "./index.d.ts", "import": "./node.mjs", "require": "./node.cjs" },
    "./mfagate_wasm_bg.wasm": "./web/mfagate_wasm_bg.wasm",
    "./package.json": "./package.json"
  },
  "sideEffects": ["./bundler.js", "./bundler/*", "./node.cjs", "./node/*"],
  "files": ["*.js", "*.cjs", "*.mjs", "*.d.ts", "web/", "bundler/", "node/"]
}
JSON
echo "$STAMP" > "$PKG/.stamp"
for t in web bundler node; do
  f="$PKG/$t/mfagate_wasm_bg.wasm"
  echo "build: $t $(stat -c %s "$f") bytes, $(gzip -9c "$f" | wc -c) gzip"
done
