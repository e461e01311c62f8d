#!/usr/bin/env bash
# docs/wasm.md's browser page, as written, in a fresh Vite project with the
# installed mfagate-wasm tarball and the real vite from npm: development
# server (with the documented optimizeDeps.exclude, and once without it: the
# package pre-bundled) and `vite build` + `vite preview`, each in headless
# Chromium (Debian's). Tokens: tokens.json in WORK (tests/installed/test.sh).
#   tests/installed/vite.sh MFAGATE_WASM_TGZ WORK
set -euo pipefail
TGZ="$1" WORK="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
V="$WORK/vite"
mkdir -p "$V/public"
cp "$WORK/data/jwks.json" "$V/public/jwks.json"
example() {
  python3 - "$ROOT/docs/wasm.md" "$1" <<'PY'
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- example: %s -->\n```js\n(.*?)```" % re.escape(sys.argv[2]), t, re.S)
sys.exit("docs/wasm.md has no %s example" % sys.argv[2]) if not m else sys.stdout.write(m.group(1))
PY
}
example browser > "$V/main.js"
example vite.config.js > "$V/vite.config.js"
echo 'export default {};' > "$V/vite.bare.config.js"
cat > "$V/index.html" <<'HTML'
<!doctype html>
<html><head><meta charset="utf-8"><title>mfagate-wasm with Vite</title></head>
<body><p id="status">loading</p><script type="module" src="/main.js"></script></body></html>
HTML
echo '{ "name": "vite-dist-test", "private": true, "type": "module" }' > "$V/package.json"
(cd "$V" && npm install --silent --no-audit --no-fund "$TGZ" vite@8.3.8 playwright-core@1.65.1)
if [[ ! -x /usr/bin/chromium ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
cp "$ROOT/tests/installed/vite-chromium.mjs" "$V/"
# A watchdog: a browser that stops answering fails the step in 5 minutes
# rather than holding CI until its limit (each page wait is 15-30 s).
cd "$V" && timeout --kill-after=10 300 node vite-chromium.mjs "$WORK/tokens.json" \
  || { status=$?; [ "$status" -ge 124 ] && echo "vite-chromium.mjs did not finish within 300 s" >&2; exit "$status"; }
