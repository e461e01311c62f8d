#!/usr/bin/env bash
# The Node binding's one test command: installs the npm dependencies, builds
# the addon (release), type-checks the TypeScript usage file and runs
# `node --test` (conformance vectors, API, middleware, JWKS cache).
# Needs: Rust (cargo) and Node >= 20 with npm. Idempotent; fast when warm.
#   bash test.sh --prepare     only the npm install (scripts/test.sh runs it
#                              beside the first builds)
#   MFAGATE_NODE_ADDON=dist/npm/mfagate-linux-x64-gnu-0.1.0.tgz bash test.sh
#       tests the addon of that release tarball (scripts/dist.sh built it)
#       instead of building one: scripts/test.sh builds each artifact once
set -euo pipefail
# A path given relative to where the script was called from.
if [ -n "${MFAGATE_NODE_ADDON:-}" ]; then MFAGATE_NODE_ADDON="$(realpath "$MFAGATE_NODE_ADDON")"; fi
cd "$(dirname "$0")"

# `npm install` (not `npm ci`): it installs the versions of the committed
# package-lock.json, and it also works where the registry lacks the optional
# per-platform packages of other platforms (npm then leaves them out of the
# lock file, and `npm ci` refuses such a lock as "out of sync").
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "== npm install"
  npm install --no-audit --no-fund
fi
[ "${1:-}" = --prepare ] && exit 0

PLATFORM="$(node -p "require('./lib/platforms.js').platformName()")"
if [ -n "${MFAGATE_NODE_ADDON:-}" ]; then
  echo "== the addon of $(basename "$MFAGATE_NODE_ADDON")"
  # The file the loader takes first (lib/native.js), from the tarball users install.
  tar -xzf "$MFAGATE_NODE_ADDON" -O "package/mfagate.$PLATFORM.node" > "mfagate.$PLATFORM.node.tmp"
  mv "mfagate.$PLATFORM.node.tmp" "mfagate.$PLATFORM.node"
else
  echo "== napi build --platform --release"
  npx --no-install napi build --platform --release
fi

echo "== tsc --noEmit"
npx --no-install tsc --noEmit -p test/types

echo "== node --test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
node --test --test-reporter=spec test/ 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary="$(sed -n 's/^[#[:space:]]*\([0-9][0-9]* passed, [0-9][0-9]* failed\)$/\1/p' "$log" | tail -1)"
if [ -z "$summary" ]; then
  echo "conformance vectors: no summary line (did the vector runner run?)" >&2
  exit 1
fi
echo "conformance vectors: $summary"
exit "$status"
