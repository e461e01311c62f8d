#!/usr/bin/env bash
# The installed-artifact tests: builds every release artifact (scripts/dist.sh),
# then installs each x86_64 one where a user would, outside the checkout, and
# runs it from there:
#   Python  the manylinux2014 x86_64 wheel in a fresh venv: metadata, the
#           conformance vectors, the docs' Flask example (middleware), the
#           clock hook, the README quickstart as written, and the `mfagate`
#           command against the Rust CLI (same output and exit status);
#           the sdist builds a wheel from source that imports and decides
#   Node    mfagate + mfagate-linux-x64-gnu + mfagate-wasm in a fresh npm
#           project: the vectors through each, the docs' Express and Fastify
#           examples, the README quickstarts, the loader's error without the
#           addon and on an unknown platform
#   Vite    the docs/wasm.md browser page with the real vite, dev and built,
#           in headless Chromium
#   aarch64 and musl artifacts: auditwheel and ELF checks (in dist.sh); they
#           are not run here (no arm64 or musl runtime is installed)
# Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
. scripts/lib.sh
ensure_rust
export PATH="$HOME/.cargo/bin:$PATH"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
DIST="${MFAGATE_DIST:-$ROOT/dist}"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
start=$(date +%s)
PASSED=0
FAILED=()
run() { local name="$1"; shift; step "dist test: $name"; if "$@"; then PASSED=$((PASSED + 1)); else FAILED+=("$name"); fi; }

if [[ "${MFAGATE_DIST_REUSE:-0}" != 1 || ! -f "$DIST/SHA256SUMS" ]]; then
  bash scripts/dist.sh
fi
WHEEL="$DIST/python/mfagate-$VERSION-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
SDIST="$DIST/python/mfagate-$VERSION.tar.gz"
NPM_MAIN="$DIST/npm/mfagate-$VERSION.tgz"
NPM_ADDON="$DIST/npm/mfagate-linux-x64-gnu-$VERSION.tgz"
NPM_WASM="$DIST/npm/mfagate-wasm-$VERSION.tgz"
for f in "$WHEEL" "$SDIST" "$NPM_MAIN" "$NPM_ADDON" "$NPM_WASM"; do [[ -f "$f" ]] || { echo "missing $f" >&2; exit 1; }; done

# A folder outside the checkout, with the data the tests read (never the sources).
WORK="$(mktemp -d /tmp/mfagate-dist-test.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/data"
cp -r tests/vectors tests/matcher tests/requests "$WORK/data/"
cp tests/keys/jwks.json docs/python.md "$WORK/data/"

step "dist test: test tokens (mfagate token sign, the repository's test keys)"
cargo build -q -p mfagate-cli
MFAGATE="$TARGET/debug/mfagate"
TENANT=6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f CLIENT=1950a258-227b-4e31-a9cf-717495945fc2 AGENTS=a1b2c3d4-0000-4000-8000-000000000001
api='{"aud": "https://api.partnercenter.microsoft.com", "iss": "https://sts.windows.net/'$TENANT'/", "tid": "'$TENANT'",
 "oid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "ver": "1.0", "upn": "alice@contoso.example", "appid": "'$CLIENT'", "scp": "user_impersonation"'
id='{"aud": "'$CLIENT'", "iss": "https://sts.windows.net/'$TENANT'/", "tid": "'$TENANT'", "oid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
 "ver": "1.0", "upn": "alice@contoso.example", "groups": ["'$AGENTS'"]'
sign() { echo "$1" | "$MFAGATE" token sign --key tests/keys/rsa-signing-1.pem --claims - "${@:2}" 2>/dev/null; }
cat > "$WORK/tokens.json" <<JSON
{ "api_mfa": "$(sign "$api, \"amr\": [\"pwd\", \"mfa\"]}")", "api_pwd": "$(sign "$api, \"amr\": [\"pwd\"]}")",
  "id_mfa": "$(sign "$id, \"amr\": [\"pwd\", \"mfa\"]}")", "id_pwd": "$(sign "$id, \"amr\": [\"pwd\"]}")",
  "api_old": "$(sign "$api, \"amr\": [\"pwd\", \"mfa\"]}" --now 1700000000)", "api_old_now": 1700000060,
  "tenant": "$TENANT", "client_id": "$CLIENT", "agents": "$AGENTS" }
JSON

# The README's quickstart blocks, as written (one source: each package's README
# holds the same block, checked here).
block() { # file, marker -> the fenced block after <!-- quickstart: marker -->
  python3 - "$1" "$2" <<'PY'
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- quickstart: %s -->\n```\w+\n(.*?)```\n" % re.escape(sys.argv[2]), t, re.S)
sys.stdout.write(m.group(1) if m else "")
PY
}
quickstart_dir() { # a folder with what the token block makes, made by running it as written
  local d="$1"
  mkdir -p "$d/tests/keys" && cp tests/keys/jwks.json tests/keys/rsa-signing-1.pem "$d/tests/keys/"
  (cd "$d" && PATH="$(dirname "$MFAGATE"):$PATH" bash -euo pipefail -c "$(block "$ROOT/README.md" token | sed 's#cargo run -q -p mfagate-cli --#mfagate#')") 2>/dev/null
}
same_blocks() {
  local ok=0
  for pair in "python bindings-python/README.md" "node bindings-node/README.md" "wasm bindings-wasm/README.md"; do
    read -r m f <<<"$pair"
    if [[ -z "$(block README.md "$m")" || "$(block README.md "$m")" != "$(block "$f" "$m")" ]]; then
      echo "the $m quickstart of README.md and $f differ (or is missing)"; ok=1
    fi
  done
  return $ok
}
run "the README's quickstarts are the packages' READMEs'" same_blocks

# ---------------------------------------------------------------- Python
PYV="$WORK/venv"
python3 -m venv "$PYV"
py_install() {
  "$PYV/bin/pip" install --quiet --disable-pip-version-check --no-index "$WHEEL" \
    && "$PYV/bin/pip" install --quiet --disable-pip-version-check flask==3.1.3
}
run "python: install the wheel into a fresh venv" py_install
run "python: metadata, vectors, Flask example, clock hook" bash -c "cd '$WORK' && '$PYV/bin/python' '$ROOT/tests/dist/py_installed.py'"
py_quickstart() {
  local d="$WORK/qs-python"; quickstart_dir "$d"
  block README.md python > "$d/quickstart.py"
  local out; out="$(cd "$d" && "$PYV/bin/python" quickstart.py)"
  echo "   $out"; [[ "$out" == "allow mfa_satisfied 200" ]]
}
run "python: the README quickstart, as written" py_quickstart
run "python: the mfagate command is the Rust CLI's inspect, check and policy lint" \
  bash tests/dist/cli-compare.sh "$MFAGATE" "$PYV/bin/mfagate" "$PYV/bin/python" "$WORK"
sdist_builds() {
  # pip builds it as a user without a wheel would (maturin from PyPI); the
  # target folder persists so that a warm run compiles only mfagate.
  local v="$WORK/sdist-venv"
  python3 -m venv "$v"
  CARGO_TARGET_DIR="$TARGET/dist-build/sdist" "$v/bin/pip" install --quiet --disable-pip-version-check --no-binary mfagate "$SDIST" \
    && (cd "$WORK" && "$v/bin/python" -c '
import mfagate, sys
d = mfagate.Gate("partner-center").evaluate("/v1/customers", now=1700000000)
assert (d.outcome, d.reason, d.http.status) == ("deny", "no_credential", 401), d
assert "site-packages" in mfagate.__file__
print("   sdist: built and installed", mfagate.__version__)')
}
run "python: the sdist builds from source" sdist_builds

# ---------------------------------------------------------------- Node
NP="$WORK/node"
node_install() {
  mkdir -p "$NP/no-addon"
  cp tests/js/vectors-runner.js tests/dist/node-installed.test.mjs "$NP/"
  cp -r "$WORK/data" "$WORK/tokens.json" "$NP/"
  cp bindings-node/examples/express.js bindings-node/examples/fastify.js "$NP/"
  (cd "$NP" && echo '{ "name": "dist-test", "private": true, "type": "module" }' > package.json \
    && npm install --silent --no-audit --no-fund "$NPM_MAIN" "$NPM_ADDON" "$NPM_WASM" express@4.22.3 fastify@5.12.8) \
    && (cd "$NP/no-addon" && echo '{ "name": "no-addon", "private": true }' > package.json \
    && npm install --silent --no-audit --no-fund --omit=optional "$NPM_MAIN")
}
run "node: install the tarballs into a fresh npm project" node_install
examples_are_docs() {
  python3 - <<'PY'
import re, sys
doc = open("docs/node.md", encoding="utf-8").read()
for f in ("express.js", "fastify.js"):
    m = re.search(r"<!-- example: bindings-node/examples/%s -->\n```js\n(.*?)```" % f, doc, re.S)
    if not m or m.group(1) != open("bindings-node/examples/" + f, encoding="utf-8").read():
        sys.exit(f"docs/node.md does not show bindings-node/examples/{f} as it is")
PY
}
run "node: the examples are docs/node.md's" examples_are_docs
run "node: vectors, examples and the loader from the installed packages" bash -c "cd '$NP' && node --test --test-reporter=spec node-installed.test.mjs"
js_quickstart() { # marker, file name
  local d="$WORK/qs-$1"; quickstart_dir "$d"
  ln -s "$NP/node_modules" "$d/node_modules"
  block README.md "$1" > "$d/$2"
  local out; out="$(cd "$d" && node "$2")"
  echo "   $out"; [[ "$out" == "allow mfa_satisfied 200" ]]
}
run "node: the README quickstart (mfagate), as written" js_quickstart node quickstart.js
run "node: the README quickstart (mfagate-wasm), as written" js_quickstart wasm quickstart.mjs
wasm_tarball() {
  local list; list="$(tar tzf "$NPM_WASM")"
  local n; n="$(grep -c '\.wasm$' <<<"$list")"
  echo "   $(grep '\.wasm$' <<<"$list") ($n .wasm file)"
  [[ "$n" == 1 ]] && grep -qx package/README.md <<<"$list" && grep -qx package/LICENSE-MIT <<<"$list" && grep -qx package/LICENSE-APACHE <<<"$list"
}
run "mfagate-wasm: one .wasm, README and licenses in the tarball" wasm_tarball
readme_license_everywhere() {
  local ok=0 f
  for f in "$DIST"/npm/*.tgz; do
    for want in README.md LICENSE-MIT LICENSE-APACHE package.json; do
      tar tzf "$f" | grep -qx "package/$want" || { echo "$(basename "$f") has no $want"; ok=1; }
    done
  done
  return $ok
}
run "npm: README and licenses in every tarball" readme_license_everywhere

# ---------------------------------------------------------------- Vite
run "mfagate-wasm: docs/wasm.md's browser page with vite (dev and build) in Chromium" bash tests/dist/vite.sh "$NPM_WASM" "$WORK"

echo
if (( ${#FAILED[@]} > 0 )); then printf 'FAILED: %s\n' "${FAILED[@]}"; fi
echo "dist: ${PASSED} passed, ${#FAILED[@]} failed (in $(( $(date +%s) - start )) s)"
(( ${#FAILED[@]} == 0 ))
