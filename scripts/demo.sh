#!/usr/bin/env bash
# The main job on the built-in defaults: the scenarios of Microsoft's MFA page evaluated
# against the built-in Partner Center policy, printed as decisions.
# Usage: scripts/demo.sh [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
cargo run --release -q -p mfagate-cli -- demo "$@"
