#!/usr/bin/env bash
# The Node binding's one test command: installs the npm dependencies, builds
# the addon (release), type-checks the TypeScript usage file and runs
# `node --test` (conformance vectors, API, middleware, JWKS cache).
# Needs: Rust (cargo) and Node >= 20 with npm. Idempotent; fast when warm.
set -euo pipefail
cd "$(dirname "$0")"

# `npm install` (not `npm ci`): it installs the versions of the committed
# package-lock.json, and it also works where the registry lacks the optional
# per-platform packages of other platforms (npm then leaves them out of the
# lock file, and `npm ci` refuses such a lock as "out of sync").
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "== npm install"
  npm install --no-audit --no-fund
fi

echo "== napi build --platform --release"
npx --no-install napi build --platform --release

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
