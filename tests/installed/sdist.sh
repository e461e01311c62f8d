#!/usr/bin/env bash
# The sdist builds from source: pip builds and installs it into a fresh venv
# as a user without a wheel would (maturin from PyPI, the Rust toolchain),
# and the installed module decides. tests/installed/test.sh runs it after
# its other Python checks; scripts/test.sh runs it on its own, beside the
# other suites (it is a whole release build of the extension).
#   tests/installed/sdist.sh dist/python/mfagate-0.1.0.tar.gz
#   MFAGATE_SDIST_PROFILE=dev tests/installed/sdist.sh …   the dev profile
#       (MATURIN_PEP517_ARGS="--profile dev"): the same sources compile, in
#       half the CPU time; scripts/test.sh uses it, since the release build
#       of those sources is the wheel scripts/dist.sh built and tested.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
. scripts/lib.sh
ensure_rust
SDIST="${1:?usage: tests/installed/sdist.sh SDIST}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d /tmp/mfagate-sdist.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
python3 -m venv "$WORK/venv"
PROFILE="${MFAGATE_SDIST_PROFILE:-release}"
case "$PROFILE" in
  release) unset MATURIN_PEP517_ARGS ;;
  dev) export MATURIN_PEP517_ARGS="--profile dev" ;;
  *) echo "MFAGATE_SDIST_PROFILE is release or dev, not $PROFILE" >&2; exit 2 ;;
esac
echo "   pip builds the sdist ($PROFILE profile)"
# The target folder persists, so a warm run compiles only mfagate.
CARGO_TARGET_DIR="$TARGET/dist-build/sdist-$PROFILE" "$WORK/venv/bin/pip" install --quiet --disable-pip-version-check \
  --no-binary mfagate "$SDIST"
cd "$WORK"
"$WORK/venv/bin/python" -c '
import mfagate, sys
d = mfagate.Gate("partner-center").evaluate("/v1/customers", now=1700000000)
assert (d.outcome, d.reason, d.http.status) == ("deny", "no_credential", 401), d
assert "site-packages" in mfagate.__file__
print("   sdist: built and installed", mfagate.__version__)'
