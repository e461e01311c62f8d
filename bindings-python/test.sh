#!/usr/bin/env bash
# Builds the mfagate wheel and tests it, from nothing: creates .venv, installs
# the tools, builds the abi3 wheel with maturin (release), installs it, runs
# stubtest, mypy --strict and pytest (conformance vectors, API, JWKS cache,
# ASGI and WSGI middleware against real servers, the docs' examples).
# Idempotent; fast when warm. Exits non-zero on any failure.
#   bash test.sh --prepare    only the venv and its tools (scripts/test.sh
#                             runs it beside the first builds)
#   MFAGATE_WHEEL=dist/python/mfagate-….whl bash test.sh
#       tests that wheel (scripts/dist.sh's manylinux2014 one) instead of
#       building one: scripts/test.sh builds each artifact once
set -euo pipefail
# A path given relative to where the script was called from.
if [ -n "${MFAGATE_WHEEL:-}" ]; then MFAGATE_WHEEL="$(realpath "$MFAGATE_WHEEL")"; fi
cd "$(dirname "$0")"
HERE="$(pwd)"
# cargo on PATH, rustfmt and clippy installed (the repository's helper).
. ../scripts/lib.sh
ensure_rust
PYTHON="${PYTHON:-python3}"
VENV="${MFAGATE_VENV:-$HERE/.venv}"
PY="$VENV/bin/python"

if [ ! -x "$PY" ]; then
    echo "== creating $VENV"
    "$PYTHON" -m venv "$VENV" || {
        echo "cannot create a venv with $PYTHON (on Debian: apt-get install python3-venv)" >&2
        exit 1
    }
fi
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum requirements-dev.txt | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "== installing requirements-dev.txt"
    "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$PY" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$WANT" > "$STAMP"
fi
if [ "${1:-}" = --prepare ]; then exit 0; fi

echo "== rustfmt and clippy (this crate)"
# scripts/test.sh lints the whole workspace first (MFAGATE_WORKSPACE_LINTED=1):
# this crate is in it, so the clippy run here would repeat it.
(cd .. && cargo fmt -p mfagate-python -- --check)
if [ "${MFAGATE_WORKSPACE_LINTED:-0}" != 1 ]; then
    (cd .. && cargo clippy -q -p mfagate-python --all-targets -- -D warnings)
fi

SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
# A stale in-tree module from `maturin develop` must not shadow the wheel.
rm -f python/mfagate/_mfagate*.so
if [ -n "${MFAGATE_WHEEL:-}" ]; then
    WHEEL="$MFAGATE_WHEEL"
    echo "== the wheel $(basename "$WHEEL")"
else
    echo "== building the wheel (maturin, release)"
    "$VENV/bin/maturin" build --release --quiet --interpreter "$PY" --out "$SCRATCH/wheel"
    WHEEL="$(ls "$SCRATCH"/wheel/mfagate-*.whl)"
    echo "   $(basename "$WHEEL")"
fi
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"

echo "== the wheel alone in a clean venv (no dependencies needed)"
"$PY" -m venv "$SCRATCH/clean"
"$SCRATCH/clean/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$WHEEL"
(cd "$SCRATCH" && "$SCRATCH/clean/bin/python" -c '
import mfagate
d = mfagate.Gate("partner-center").evaluate("/v1/customers", now=1700000000)
assert (d.outcome, d.reason, d.http.status) == ("deny", "no_credential", 401), d
print("   ok:", d)')

# Everything below runs outside the source tree, against the installed wheel.
cd "$HERE/tests"
"$PY" -c 'import mfagate, sys; f = mfagate.__file__; print("   testing", f); sys.exit("site-packages" not in f)'

echo "== stubtest"
"$PY" -m mypy.stubtest mfagate
echo "== mypy --strict (the package, as installed)"
"$PY" -m mypy --strict --no-incremental -p mfagate

echo "== pytest"
"$PY" -m pytest -q -p no:cacheprovider "$@" .
