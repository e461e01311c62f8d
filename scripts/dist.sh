#!/usr/bin/env bash
# Builds every release artifact into dist/, exactly what would be published:
#   dist/python/  abi3 wheels (manylinux2014 x86_64 and aarch64, musllinux_1_2
#                 x86_64), each checked with `auditwheel show`, and the sdist
#   dist/npm/     mfagate (lib/ + optionalDependencies on the per-platform
#                 packages), mfagate-linux-x64-gnu, -linux-x64-musl,
#                 -linux-arm64-gnu, and mfagate-wasm: `npm pack` tarballs
#   dist/serve/   mfagate-serve for x86_64 and aarch64 Linux (glibc 2.17+):
#                 the binary, its README and the licenses in a .tar.gz
#   dist/SHA256SUMS
# Cross builds use zig (PyPI's ziglang) through maturin --zig and
# cargo-zigbuild, which link against glibc 2.17 and musl. The darwin and
# win32 packages are declared (optionalDependencies, bindings-node/npm/) but
# cannot be built here (no macOS SDK or MSVC): see docs/node.md.
# Installs what it needs: rustup targets, a tool venv in target/dist-tools
# (scripts/dist-requirements.txt), the WebAssembly tools (bindings-wasm/test.sh
# installs those; build.sh builds). Warm runs take seconds.
#   MFAGATE_DIST_ONLY="python node wasm serve"   build only some kinds (default: all)
#   MFAGATE_DIST_TARGETS="x86_64-unknown-linux-gnu"   build the native
#       artifacts of these Rust targets only (default: all five wheels,
#       addons and binaries). The test command builds only what it installs
#       and runs, to stay within CI's time (tests/installed/test.sh).
#   bash scripts/dist.sh --prepare   only the tools (scripts/test.sh runs it
#       beside the first builds)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
. scripts/lib.sh
ensure_rust
export PATH="$HOME/.cargo/bin:$PATH"
DIST="${MFAGATE_DIST:-$ROOT/dist}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# Own target folders: the zig-built C code (aws-lc) must not replace the
# development builds' (another compiler), nor maturin's zig wrapper's
# cargo-zigbuild's (each would rebuild aws-lc over the other's). The Node
# addons and mfagate-serve both build with cargo-zigbuild and the same core
# features, so they share one folder and compile aws-lc once per target.
PY_TARGET="$TARGET/dist-build/python"
ZIG_TARGET="$TARGET/dist-build/zigbuild"
TOOLS="$TARGET/dist-tools"
STAGE="$TARGET/dist-stage"
ONLY="${MFAGATE_DIST_ONLY:-python node wasm serve}"
ALL_TARGETS="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl"
TARGETS="${MFAGATE_DIST_TARGETS:-$ALL_TARGETS}"
for t in $TARGETS; do
  [[ " $ALL_TARGETS " == *" $t "* ]] || { echo "MFAGATE_DIST_TARGETS names '$t': the targets are $ALL_TARGETS" >&2; exit 2; }
done
for k in $ONLY; do
  case "$k" in python|node|wasm|serve) ;; *) echo "MFAGATE_DIST_ONLY names '$k': the kinds are python, node, wasm and serve" >&2; exit 2;; esac
done
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
want() { [[ " $ONLY " == *" $1 "* ]]; }
# Is this Rust target in MFAGATE_DIST_TARGETS? If not, say so.
target_ok() { [[ " $TARGETS " == *" $1 "* ]] || { echo "-- $1: not built (MFAGATE_DIST_TARGETS=\"$TARGETS\")"; return 1; }; }
start=$(date +%s)

step "dist: tools"
for t in $TARGETS; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
REQS="$(sha256sum scripts/dist-requirements.txt | cut -d' ' -f1)"
if [[ ! -x "$TOOLS/bin/maturin" || "$(cat "$TOOLS/.requirements" 2>/dev/null)" != "$REQS" ]]; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check -r scripts/dist-requirements.txt
  echo "$REQS" > "$TOOLS/.requirements"
fi
export PATH="$TOOLS/bin:$PATH"
if [ "${1:-}" = --prepare ]; then exit 0; fi
echo "maturin $(maturin --version | awk '{print $2}'), zig $(python -m ziglang version 2>/dev/null | tail -1), cargo-zigbuild $(cargo-zigbuild --version | awk '{print $2}'), auditwheel $(auditwheel --version | awk '{print $2}')"

rm -rf "$DIST" "$STAGE"
mkdir -p "$DIST/python" "$DIST/npm" "$STAGE"

# The WebAssembly build runs beside the native ones: its fat LTO and wasm-opt
# are long single-threaded phases, which leave a core to the other builds.
WASM_PID=""
if want wasm; then
  # Its own process group (set -m), so that a failure stops all of it.
  set -m
  (bash bindings-wasm/tools.sh && bash bindings-wasm/build.sh) > "$STAGE/wasm-build.log" 2>&1 &
  WASM_PID=$!
  set +m
  trap '[ -n "$WASM_PID" ] && kill -TERM -- "-$WASM_PID" 2>/dev/null; true' EXIT
fi
elf() { python scripts/dist_elf.py "$@"; }
quiet_cc() { grep -v '^cargo:warning=Compiler family detection failed' || true; }
pack() { (cd "$1" && npm pack --silent --pack-destination "$DIST/npm" >/dev/null); }

# zig links musl's C library as `libc.so`; Alpine's toolchain writes
# `libc.musl-<arch>.so.1`, the name auditwheel's musllinux policy expects.
# musl's loader answers for both itself (a reserved name).
musl_soname() { patchelf --replace-needed libc.so "libc.musl-$1.so.1" "$2"; }

# ---------------------------------------------------------------- Python
if want python; then
  step "dist: Python wheels (maturin --zig) and sdist"
  # A module left by `maturin develop` must not end up in a wheel.
  rm -f bindings-python/python/mfagate/_mfagate*.so
  build_wheel() { # target, compatibility, auditwheel ldpaths
    CARGO_TARGET_DIR="$PY_TARGET" maturin build --quiet --release --zig -m bindings-python/Cargo.toml \
      --target "$1" --compatibility "$2" --out "$STAGE/wheels" 2>&1 | quiet_cc >&2
    local whl
    whl="$(ls "$STAGE"/wheels/mfagate-"$VERSION"-*"${3}"*.whl)"
    echo "$whl"
  }
  for spec in "x86_64-unknown-linux-gnu manylinux2014 manylinux_2_17_x86_64" \
              "aarch64-unknown-linux-gnu manylinux2014 manylinux_2_17_aarch64" \
              "x86_64-unknown-linux-musl musllinux_1_2 musllinux_1_2_x86_64"; do
    read -r triple compat tag <<<"$spec"
    target_ok "$triple" || continue
    echo "-- $triple ($compat)"
    whl="$(build_wheel "$triple" "$compat" "$tag")"
    [[ -f "$whl" ]] || { echo "no wheel for $triple" >&2; exit 1; }
    ldpaths=()
    if [[ "$triple" == *musl ]]; then
      # Rename libc.so in the extension, repack (wheel regenerates RECORD).
      rm -rf "$STAGE/unpack" && mkdir -p "$STAGE/unpack"
      wheel unpack --dest "$STAGE/unpack" "$whl" >/dev/null
      so="$(ls "$STAGE"/unpack/mfagate-*/mfagate/_mfagate.abi3.so)"
      musl_soname x86_64 "$so"
      rm "$whl" && wheel pack --dest-dir "$STAGE/wheels" "$STAGE"/unpack/mfagate-* >/dev/null
      # auditwheel resolves the C library in Debian's musl package.
      [[ -e /lib/ld-musl-x86_64.so.1 ]] || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq musl >/dev/null; }
      ldpaths=(--ldpaths /usr/lib/x86_64-linux-musl)
    fi
    out="$(auditwheel show "${ldpaths[@]}" "$whl")"
    echo "$out" | sed -n '/is consistent with/,/^"/p' | tr '\n' ' ' | sed 's/^/   auditwheel: /'; echo
    if ! grep -q "\"$tag\"" <<<"$out" || grep -q "will need to be eliminated" <<<"$out"; then
      echo "$out" >&2; echo "auditwheel: $(basename "$whl") is not $tag" >&2; exit 1
    fi
    mkdir -p "$STAGE/so" && rm -rf "$STAGE/so/x" && mkdir "$STAGE/so/x" && (cd "$STAGE/so/x" && python -m zipfile -e "$whl" .)
    if [[ "$triple" == *musl ]]; then
      elf "$STAGE/so/x/mfagate/_mfagate.abi3.so" --machine x86_64 --libc musl
    else
      elf "$STAGE/so/x/mfagate/_mfagate.abi3.so" --machine "${triple%%-*}" --libc glibc --max-glibc 2.17
    fi
    cp "$whl" "$DIST/python/"
  done
  CARGO_TARGET_DIR="$PY_TARGET" maturin sdist -m bindings-python/Cargo.toml --out "$DIST/python" >/dev/null
  ls "$DIST"/python/mfagate-"$VERSION".tar.gz >/dev/null
fi

# ---------------------------------------------------------------- Node
if want node; then
  step "dist: Node packages (cargo-zigbuild; napi-rs per-platform packages)"
  # The one list of platforms is bindings-node/lib/platforms.js; package.json's
  # napi.targets and bindings-node/npm/ must say the same.
  node - <<'JS'
const { PLATFORMS } = require('./bindings-node/lib/platforms.js');
const fs = require('node:fs');
const pkg = require('./bindings-node/package.json');
const want = Object.values(PLATFORMS);
if (JSON.stringify(pkg.napi.targets) !== JSON.stringify(want)) throw new Error(`package.json napi.targets ${pkg.napi.targets} is not lib/platforms.js's ${want}`);
for (const name of Object.keys(PLATFORMS)) {
  const p = require(`./bindings-node/npm/${name}/package.json`);
  if (p.name !== `mfagate-${name}` || p.main !== `mfagate.${name}.node`) throw new Error(`bindings-node/npm/${name}/package.json names another package or file`);
}
if (fs.readdirSync('bindings-node/npm').sort().join() !== Object.keys(PLATFORMS).sort().join()) throw new Error('bindings-node/npm/ has other platforms than lib/platforms.js');
JS
  stage_pkg() { # source dir, staged dir
    rm -rf "$2" && mkdir -p "$2"
    cp -r "$1"/. "$2"/
    cp LICENSE-MIT LICENSE-APACHE "$2"/
  }
  # Writes the version (and, for the main package, the optionalDependencies)
  # into a staged package.json; the published main package has no dev fields.
  set_manifest() { # staged dir, main?
    node -e '
      const fs = require("node:fs");
      const [dir, main, version] = process.argv.slice(1);
      const f = `${dir}/package.json`;
      const p = JSON.parse(fs.readFileSync(f, "utf8"));
      p.version = version;
      if (main === "1") {
        const { PLATFORMS } = require(`${dir}/lib/platforms.js`);
        p.optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((k) => [`mfagate-${k}`, version]));
        delete p.devDependencies; delete p.scripts;
      }
      fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n");' "$1" "$2" "$VERSION"
  }
  for spec in "linux-x64-gnu x86_64-unknown-linux-gnu.2.17 x86_64 glibc" \
              "linux-x64-musl x86_64-unknown-linux-musl x86_64 musl" \
              "linux-arm64-gnu aarch64-unknown-linux-gnu.2.17 aarch64 glibc"; do
    read -r name zigtarget machine libc <<<"$spec"
    triple="${zigtarget%.2.17}"
    target_ok "$triple" || continue
    echo "-- $name ($zigtarget)"
    # musl: a shared C library, not a static one (Rust's musl default).
    CARGO_TARGET_DIR="$ZIG_TARGET" CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static" \
      cargo zigbuild --quiet --release -p mfagate-node --lib --target "$zigtarget" 2>&1 | quiet_cc
    so="$ZIG_TARGET/$triple/release/libmfagate_node.so"
    [[ -f "$so" ]] || { echo "no addon for $triple" >&2; exit 1; }
    dir="$STAGE/npm/mfagate-$name"
    stage_pkg "bindings-node/npm/$name" "$dir"
    cp "$so" "$dir/mfagate.$name.node"
    if [[ "$libc" == musl ]]; then musl_soname x86_64 "$dir/mfagate.$name.node"; fi
    elf "$dir/mfagate.$name.node" --machine "$machine" --libc "$libc" --max-glibc 2.17
    set_manifest "$dir" 0
    pack "$dir"
  done
  dir="$STAGE/npm/mfagate"
  rm -rf "$dir" && mkdir -p "$dir"
  cp -r bindings-node/lib bindings-node/package.json bindings-node/README.md LICENSE-MIT LICENSE-APACHE "$dir"/
  set_manifest "$dir" 1
  pack "$dir"
  echo "   declared, not built here: mfagate-darwin-x64, mfagate-darwin-arm64 (need the macOS SDK), mfagate-win32-x64-msvc (needs MSVC)"
fi

# ---------------------------------------------------------------- WASM
if want wasm; then
  step "dist: mfagate-wasm (built beside the native artifacts)"
  wasm_status=0
  wait "$WASM_PID" || wasm_status=$?
  WASM_PID=""
  cat "$STAGE/wasm-build.log"
  [ "$wasm_status" = 0 ] || { echo "the WebAssembly build failed (exit $wasm_status): its output is above" >&2; exit 1; }
  pack bindings-wasm/pkg
fi

# ---------------------------------------------------------------- serve
# mfagate-serve is for teams without a binding (issue 13): they need the
# binary itself, not a Rust toolchain. glibc 2.17, like the wheels and the
# addons, and not static musl: musl's allocator is slow under tokio's
# threads, and the container recipe of docs/serve.md is Debian anyway.
if want serve; then
  step "dist: mfagate-serve (cargo-zigbuild, glibc 2.17)"
  mkdir -p "$DIST/serve"
  for spec in "x86_64-unknown-linux-gnu x86_64" "aarch64-unknown-linux-gnu aarch64"; do
    read -r triple machine <<<"$spec"
    target_ok "$triple" || continue
    echo "-- $triple"
    CARGO_TARGET_DIR="$ZIG_TARGET" cargo zigbuild --quiet --release -p mfagate-serve --bin mfagate-serve \
      --target "$triple.2.17" 2>&1 | quiet_cc
    bin="$ZIG_TARGET/$triple/release/mfagate-serve"
    [[ -f "$bin" ]] || { echo "no mfagate-serve for $triple" >&2; exit 1; }
    elf "$bin" --machine "$machine" --libc glibc --max-glibc 2.17
    name="mfagate-serve-$VERSION-$triple"
    rm -rf "$STAGE/serve/$name" && mkdir -p "$STAGE/serve/$name"
    cp "$bin" serve/README.md LICENSE-MIT LICENSE-APACHE "$STAGE/serve/$name/"
    # Same bytes from the same binary: sorted names, no owners or times.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$STAGE/serve" -cf - "$name" \
      | gzip -9n > "$DIST/serve/$name.tar.gz"
  done
fi

step "dist: artifacts"
(cd "$DIST" && find . -type f ! -name SHA256SUMS | sort | sed 's|^\./||' | xargs sha256sum > SHA256SUMS)
(cd "$DIST" && find . -type f ! -name SHA256SUMS | sort | sed 's|^\./||' | while read -r f; do
  printf '%10s  %s\n' "$(stat -c %s "$f")" "$f"; done)
echo "dist: done in $(( $(date +%s) - start )) s"
