#!/usr/bin/env bash
# Builds the mfagate wheel and tests it, from nothing: creates .venv, installs
# the tools, builds the abi3 wheel with maturin (release), installs it, runs
# stubtest, mypy --strict and pytest (conformance vectors, API, JWKS cache,
# ASGI and WSGI middleware against real servers, the docs' examples).
# Idempotent; fast when warm. Exits non-zero on any failure.
set -euo pipefail
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

echo "== rustfmt and clippy (this crate)"
(cd .. && cargo fmt -p mfagate-python -- --check && cargo clippy -q -p mfagate-python --all-targets -- -D warnings)

echo "== building the wheel (maturin, release)"
# Kept in target/artifacts/python for the suites that run after this one
# (scripts/test.sh hands it to the router differential): built once a run.
OUT="${CARGO_TARGET_DIR:-$HERE/../target}/artifacts/python"
rm -rf "$OUT"
mkdir -p "$OUT"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
# A stale in-tree module from `maturin develop` must not shadow the wheel.
rm -f python/mfagate/_mfagate*.so
"$VENV/bin/maturin" build --release --quiet --interpreter "$PY" --out "$OUT"
WHEEL="$(ls "$OUT"/mfagate-*.whl)"
echo "   $(basename "$WHEEL")"
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
