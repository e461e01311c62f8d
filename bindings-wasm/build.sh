#!/usr/bin/env bash
# Builds mfagate-wasm with wasm-pack for the web, bundler and nodejs targets,
# shrinks the one module they share with binaryen's wasm-opt (from npm), and
# assembles the npm package `mfagate-wasm` in bindings-wasm/pkg/ (README,
# licenses, `npm pack` makes the tarball). Needs the tools test.sh
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
    sha256sum "$HERE/Cargo.toml" "$HERE/../core/Cargo.toml" "$HERE/../Cargo.lock" "$HERE/build.sh" "$HERE/README.md"
    echo "$CARGO_PROFILE_RELEASE_OPT_LEVEL ${OPT_FLAGS[*]}"; } | sha256sum | cut -d' ' -f1
}
STAMP="$(stamp_inputs)"
if [[ -f "$PKG/.stamp" && "$(cat "$PKG/.stamp")" == "$STAMP" && -f "$PKG/glue/mfagate_wasm_bg.wasm" ]]; then
  echo "build: pkg/ is up to date"
  exit 0
fi

rm -rf "$PKG"
# One module for every entry point: wasm-bindgen writes the same .wasm for the
# web, bundler and nodejs targets (their imports are all named
# "./mfagate_wasm_bg.js"; only the JavaScript glue differs), so the package
# holds it once, in glue/, beside the three glues that load it:
#   glue/mfagate_wasm_web.js     web: init() fetches new URL('mfagate_wasm_bg.wasm', import.meta.url)
#   glue/mfagate_wasm.js         bundler: imports ./mfagate_wasm_bg.wasm (ESM integration),
#   glue/mfagate_wasm_bg.js        which imports this file back
#   glue/mfagate_wasm_node.cjs   Node: reads ${__dirname}/mfagate_wasm_bg.wasm
# The build checks both facts (the same bytes, the names the glues load).
BUILD="$PKG/.build"
for target in web bundler nodejs; do
  wasm-pack --log-level warn build "$HERE" --release --target "$target" \
    --out-dir "$BUILD/$target" --out-name mfagate_wasm --no-typescript
  if [[ -d "$BUILD/$target/snippets" ]]; then
    echo "build: the $target glue has snippets/: copy them into glue/ too" >&2; exit 1
  fi
done
for target in bundler nodejs; do
  cmp -s "$BUILD/web/mfagate_wasm_bg.wasm" "$BUILD/$target/mfagate_wasm_bg.wasm" || {
    echo "build: wasm-bindgen wrote a different .wasm for --target $target than for web; the package cannot share one module" >&2; exit 1; }
done
mkdir -p "$PKG/glue"
"$WASM_OPT" "${OPT_FLAGS[@]}" "$BUILD/web/mfagate_wasm_bg.wasm" -o "$PKG/glue/mfagate_wasm_bg.wasm"
cp "$BUILD/web/mfagate_wasm.js" "$PKG/glue/mfagate_wasm_web.js"
cp "$BUILD/bundler/mfagate_wasm.js" "$BUILD/bundler/mfagate_wasm_bg.js" "$PKG/glue/"
cp "$BUILD/nodejs/mfagate_wasm.js" "$PKG/glue/mfagate_wasm_node.cjs"
grep -q "new URL('mfagate_wasm_bg.wasm', import.meta.url)" "$PKG/glue/mfagate_wasm_web.js" \
  && grep -q 'from "./mfagate_wasm_bg.wasm"' "$PKG/glue/mfagate_wasm.js" \
  && grep -q '`${__dirname}/mfagate_wasm_bg.wasm`' "$PKG/glue/mfagate_wasm_node.cjs" \
  || { echo "build: a glue no longer loads mfagate_wasm_bg.wasm from its own folder" >&2; exit 1; }
rm -rf "$BUILD"

cp js/errors.js js/jwks.js js/node.cjs js/node.mjs js/index.d.ts js/types.d.ts "$PKG/"
# web.js and bundler.js carry js/gate.js inside them: a workerd config lists
# every module of the package by name (web.js, errors.js, jwks.js and the
# glue), and one written for an earlier version must keep working.
with_gate() {
  sed -e "/^import { bindGate } from '.\/gate.js';\$/{r js/gate.js" -e 'd}' "$1" | sed 's/^export function bindGate(/function bindGate(/'
}
for f in web.js bundler.js; do
  with_gate "js/$f" > "$PKG/$f"
  if grep -q "gate.js'" "$PKG/$f" || ! grep -q '^function bindGate(' "$PKG/$f"; then
    echo "build: js/gate.js was not put into $f" >&2; exit 1
  fi
done
cp README.md ../LICENSE-MIT ../LICENSE-APACHE "$PKG/"
# CommonJS copies of the shared ES modules, for require().
to_cjs() { sed -e 's/^export class /class /; s/^export function /function /' "$1"; echo "module.exports = { $2 };"; }
to_cjs js/errors.js "MfagateError, PolicyError, JwksError, UsageError" > "$PKG/errors.cjs"
to_cjs js/jwks.js "bindJwks" > "$PKG/jwks.cjs"
to_cjs js/gate.js "bindGate" > "$PKG/gate.cjs"

VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' ../Cargo.toml | head -1)"
cat > "$PKG/package.json" <<JSON
{
  "name": "mfagate-wasm",
  "version": "$VERSION",
  "description": "Partner Center MFA enforcement for browsers, edge workers and Node: mfagate compiled to WebAssembly",
  "license": "MIT OR Apache-2.0",
  "repository": { "type": "git", "url": "git+https://github.com/mfagate/mfagate.git", "directory": "bindings-wasm" },
  "homepage": "https://github.com/mfagate/mfagate/blob/main/docs/wasm.md",
  "bugs": "https://github.com/mfagate/mfagate/issues",
  "keywords": ["mfa", "partner-center", "entra", "jwt", "webassembly", "cloudflare-workers", "webcrypto"],
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
    "./mfagate_wasm_bg.wasm": "./glue/mfagate_wasm_bg.wasm",
    "./package.json": "./package.json"
  },
  "engines": { "node": ">=20" },
  "sideEffects": ["./bundler.js", "./glue/mfagate_wasm.js", "./node.cjs", "./glue/mfagate_wasm_node.cjs"],
  "files": ["*.js", "*.cjs", "*.mjs", "*.d.ts", "glue/", "README.md", "LICENSE-MIT", "LICENSE-APACHE"]
}
JSON
echo "$STAMP" > "$PKG/.stamp"
f="$PKG/glue/mfagate_wasm_bg.wasm"
echo "build: mfagate_wasm_bg.wasm $(stat -c %s "$f") bytes, $(gzip -9c "$f" | wc -c) gzip (one module for the web, bundler and Node entry points)"
