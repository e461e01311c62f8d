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
#   serve   the mfagate-serve x86_64 tarball unpacked and run: the Rust
#           CLI's answers through its forward-auth and nginx endpoints,
#           health, metrics, audit lines, SIGTERM; the aarch64 one the same
#           way under qemu-user with Debian's arm64 C library
#   aarch64 and musl wheels and addons: auditwheel and ELF checks (in
#           dist.sh); not run (no arm64 Python or Node, no musl Python or
#           Node comes from Debian's packages)
# Prints "N passed, M failed, K not run"; exits non-zero on any failure.
#   MFAGATE_DIST_REUSE=1   tests the artifacts already in dist/ (scripts/test.sh
#       builds them once, first, for every suite) instead of building them
#   MFAGATE_DIST_TARGETS=x86_64-unknown-linux-gnu   (scripts/test.sh, for CI's
#       time) builds and tests only the x86_64 glibc artifacts; the aarch64
#       and musl ones are then listed as not run, never as passed. Default:
#       every target, as a release is built.
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
NOT_RUN=()
TARGETS="${MFAGATE_DIST_TARGETS:-x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl}"
built() { [[ " $TARGETS " == *" $1 "* ]]; }
run() { local name="$1"; shift; step "dist test: $name"; if "$@"; then PASSED=$((PASSED + 1)); else FAILED+=("$name"); fi; }

if [[ "${MFAGATE_DIST_REUSE:-0}" != 1 || ! -f "$DIST/SHA256SUMS" ]]; then
  bash scripts/dist.sh
fi
WHEEL="$DIST/python/mfagate-$VERSION-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
SDIST="$DIST/python/mfagate-$VERSION.tar.gz"
NPM_MAIN="$DIST/npm/mfagate-$VERSION.tgz"
NPM_ADDON="$DIST/npm/mfagate-linux-x64-gnu-$VERSION.tgz"
NPM_WASM="$DIST/npm/mfagate-wasm-$VERSION.tgz"
SERVE_X64="$DIST/serve/mfagate-serve-$VERSION-x86_64-unknown-linux-gnu.tar.gz"
SERVE_ARM64="$DIST/serve/mfagate-serve-$VERSION-aarch64-unknown-linux-gnu.tar.gz"
want_files=("$WHEEL" "$SDIST" "$NPM_MAIN" "$NPM_ADDON" "$NPM_WASM" "$SERVE_X64")
if built aarch64-unknown-linux-gnu; then want_files+=("$SERVE_ARM64"); fi
if built aarch64-unknown-linux-gnu && built x86_64-unknown-linux-musl; then
  NOT_RUN+=("the aarch64 and musl wheels and addons: checked by auditwheel and ELF (dist.sh), not run (no arm64 or musl Python or Node from Debian)")
else
  NOT_RUN+=("the aarch64 and musl wheels and addons: not built, so not checked either (MFAGATE_DIST_TARGETS=\"$TARGETS\"; bash tests/installed/test.sh builds and checks them)")
fi
for f in "${want_files[@]}"; do [[ -f "$f" ]] || { echo "missing $f" >&2; exit 1; }; done

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
run "python: metadata, vectors, Flask example, clock hook" bash -c "cd '$WORK' && '$PYV/bin/python' '$ROOT/tests/installed/py_installed.py'"
py_quickstart() {
  local d="$WORK/qs-python"; quickstart_dir "$d"
  block README.md python > "$d/quickstart.py"
  local out; out="$(cd "$d" && "$PYV/bin/python" quickstart.py)"
  echo "   $out"; [[ "$out" == "allow mfa_satisfied 200" ]]
}
run "python: the README quickstart, as written" py_quickstart
run "python: the mfagate command is the Rust CLI, every command" \
  bash tests/installed/cli-compare.sh "$MFAGATE" "$PYV/bin/mfagate" "$PYV/bin/python" "$WORK"
# scripts/test.sh runs this one on its own, beside the other suites
# (MFAGATE_SDIST_APART=1): it is a whole release build of the extension.
if [[ "${MFAGATE_SDIST_APART:-0}" == 1 ]]; then
  echo "   the sdist build runs apart (MFAGATE_SDIST_APART=1): scripts/test.sh runs tests/installed/sdist.sh beside this"
else
  run "python: the sdist builds from source" bash tests/installed/sdist.sh "$SDIST"
fi

# ---------------------------------------------------------------- Node
NP="$WORK/node"
# The project without the addon is not inside $NP: Node would find $NP's
# node_modules/mfagate-linux-x64-gnu by walking up, and the loader's error
# would never show.
NO_ADDON="$WORK/node-no-addon"
node_install() {
  mkdir -p "$NP/examples" "$NO_ADDON"
  cp tests/js/vectors-runner.js tests/installed/node-installed.test.mjs "$NP/"
  cp -r "$WORK/data" "$WORK/tokens.json" "$NP/"
  # The docs' examples are CommonJS (require), as in a default npm project;
  # the test harness around them is ES modules.
  cp bindings-node/examples/express.js bindings-node/examples/fastify.js "$NP/examples/"
  echo '{ "type": "commonjs" }' > "$NP/examples/package.json"
  (cd "$NP" && echo '{ "name": "dist-test", "private": true, "type": "module" }' > package.json \
    && npm install --silent --no-audit --no-fund "$NPM_MAIN" "$NPM_ADDON" "$NPM_WASM" express@4.22.3 fastify@5.12.8) \
    && (cd "$NO_ADDON" && echo '{ "name": "no-addon", "private": true }' > package.json \
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
run "node: vectors, examples and the loader from the installed packages" bash -c "cd '$NP' && MFAGATE_NO_ADDON='$NO_ADDON' node --test --test-reporter=spec node-installed.test.mjs"
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
    # The listing first: `tar | grep -q` fails under pipefail when grep
    # stops reading early (tar gets SIGPIPE) on a large tarball.
    local list; list="$(tar tzf "$f")" || { echo "$(basename "$f"): tar cannot list it"; ok=1; continue; }
    for want in README.md LICENSE-MIT LICENSE-APACHE package.json; do
      grep -qx "package/$want" <<<"$list" || { echo "$(basename "$f") has no $want"; ok=1; }
    done
  done
  return $ok
}
run "npm: README and licenses in every tarball" readme_license_everywhere

# ---------------------------------------------------------------- serve
run "mfagate-serve: the x86_64 tarball, unpacked and run against the Rust CLI" \
  bash tests/installed/serve-installed.sh "$SERVE_X64" "$WORK" "$MFAGATE"
# qemu-user runs an aarch64 binary here; Debian's cross C library (the
# arm64 glibc and libgcc_s) is the system it dynamically links against.
ARM64_ROOT=/usr/aarch64-linux-gnu
serve_arm64() {
  if ! command -v qemu-aarch64 >/dev/null 2>&1 || [[ ! -e "$ARM64_ROOT/lib/ld-linux-aarch64.so.1" || ! -e "$ARM64_ROOT/lib/libgcc_s.so.1" ]]; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-user libc6-arm64-cross libgcc-s1-arm64-cross >/dev/null; } \
      || { echo "could not install qemu-user and Debian's arm64 C library (apt-get): the aarch64 binary cannot run here"; return 1; }
  fi
  bash tests/installed/serve-installed.sh "$SERVE_ARM64" "$WORK" "$MFAGATE" qemu-aarch64 -L "$ARM64_ROOT"
}
if built aarch64-unknown-linux-gnu; then
  run "mfagate-serve: the aarch64 tarball, the same under qemu-user" serve_arm64
else
  NOT_RUN+=("mfagate-serve aarch64 under qemu-user: not built (MFAGATE_DIST_TARGETS)")
fi

# ---------------------------------------------------------------- Vite
run "mfagate-wasm: docs/wasm.md's browser page with vite (dev and build) in Chromium" bash tests/installed/vite.sh "$NPM_WASM" "$WORK"

echo
if (( ${#NOT_RUN[@]} > 0 )); then printf 'NOT RUN: %s\n' "${NOT_RUN[@]}"; fi
if (( ${#FAILED[@]} > 0 )); then printf 'FAILED: %s\n' "${FAILED[@]}"; fi
echo "dist: ${PASSED} passed, ${#FAILED[@]} failed, ${#NOT_RUN[@]} not run (in $(( $(date +%s) - start )) s)"
(( ${#FAILED[@]} == 0 ))
