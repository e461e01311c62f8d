#!/usr/bin/env bash
# Every test of every runtime, on a fresh machine: installs what it needs,
# then runs the Rust checks, the conformance vectors and each binding's suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
start=$(date +%s)

# The run's budget. CI stops a run at 90 minutes; this ceiling leaves room
# for a slower machine and for suites still to come, and a run that creeps
# past it fails here, with every step's time above, instead of at CI's
# limit with none. Override (for a slow machine) with MFAGATE_TEST_BUDGET.
BUDGET="${MFAGATE_TEST_BUDGET:-3000}"

# Every process alive now; at the end, any started since and still running
# in this run's session or orphaned (scripts/leftovers.py) fails the run.
SNAPSHOT="$(mktemp)"
python3 scripts/leftovers.py snapshot "$SNAPSHOT"

# Each step's time, printed when it ends and again in a table at the end.
STEP_NAMES=()
STEP_SECS=()
current=""
step_start=0
end_step() {
  if [ -n "$current" ]; then
    local took=$(( $(date +%s) - step_start ))
    STEP_NAMES+=("$current")
    STEP_SECS+=("$took")
    printf '<== %d s: %s\n' "$took" "$current"
    current=""
  fi
}
step() {
  end_step
  current="$*"
  step_start=$(date +%s)
  printf '\n==> %s\n' "$*"
}

step "format and lints"
cargo fmt --all -- --check
cargo clippy -q --workspace --all-targets -- -D warnings
# The WebAssembly build of the core has no aws-lc: lint that configuration too.
cargo clippy -q -p mfagate --no-default-features --features rust-hmac --all-targets -- -D warnings

step "licenses, bans and sources of every dependency (cargo deny)"
"$(ensure_cargo_deny)" check licenses bans sources

step "API docs build without warnings (cargo doc)"
RUSTDOCFLAGS="-D warnings" cargo doc -q -p mfagate --no-deps

step "generated files are current (vectors, public JWK Sets, policy schema, TypeScript types)"
cargo run -q -p mfagate-vectorgen -- --check
cargo run -q -p mfagate-cli -- policy schema | diff -u docs/policy.schema.json - \
  || { echo "docs/policy.schema.json is stale: run 'cargo run -p mfagate-cli -- policy schema > docs/policy.schema.json'"; exit 1; }

step "Rust: unit, property, CLI and conformance tests"
cargo test -q -p mfagate -p mfagate-cli
cargo test -q -p mfagate --no-default-features --features rust-hmac --lib --test two_phase --test docs

step "conformance vectors through the CLI"
cargo run -q -p mfagate-cli -- vectors tests/vectors

for binding in $(cat scripts/bindings.txt); do
  step "binding: $binding"
  bash "$binding/test.sh"
done

step "cross-runtime differential: 12,000 mutated cases, native core against CLI, Python, Node and WebAssembly"
bash tests/differential/run.sh

# A fixed seed, so a landing is decided by the code and not by the draw;
# other seeds and the 10^6 runs: docs/security.md (bash tests/routers/run.sh N).
step "router differential: 10,000 generated requests per router on 10 real routers (Starlette, Flask, Django, Express 4 and 5, Fastify over HTTP/1.1 and HTTP/2, Hono, Go net/http, Tomcat 10)"
# The gate is the wheel bindings-python/test.sh built and tested (built once).
MFAGATE_ROUTERS_SEED=20261207 MFAGATE_ROUTERS_WHEEL="$(ls target/artifacts/python/mfagate-*.whl)" \
  bash tests/routers/run.sh 10000

# 3·10^5 per phase keeps CI's time down; the 10^6 runs are in docs/security.md
# (bash tests/soak/run.sh).
step "leaks and stability: 3·10^5 decisions per phase in each binding, resident memory through the run (tests/soak)"
bash tests/soak/run.sh 300000

step "fuzzing: every target of fuzz/ for 45 s (scripts/fuzz.sh; long runs in docs/security.md)"
bash scripts/fuzz.sh 45

step "JWKS chaos under load: a flapping endpoint against the Python, Node, serve and WebAssembly caches (about 2.5 min)"
bash tests/chaos/run.sh

step "release artifacts: scripts/dist.sh, then each installed outside the checkout (tests/installed/test.sh)"
# Only the x86_64 glibc artifacts, the ones installed and run here: each
# cross build (aarch64, musl) costs minutes of a cold CI run, and the test
# summary lists them as not run. `bash tests/installed/test.sh` builds, checks
# and (serve, under qemu-user) runs the whole release matrix.
MFAGATE_DIST_TARGETS=x86_64-unknown-linux-gnu bash tests/installed/test.sh

step "no process left running (scripts/leftovers.py)"
python3 scripts/leftovers.py check "$SNAPSHOT"
rm -f "$SNAPSHOT"
end_step

total=$(( $(date +%s) - start ))
echo
echo "step times (s):"
for i in "${!STEP_NAMES[@]}"; do
  printf '%6d  %s\n' "${STEP_SECS[$i]}" "${STEP_NAMES[$i]:0:110}"
done
printf '%6d  total (budget %d)\n' "$total" "$BUDGET"
if (( total > BUDGET )); then
  echo "the tests passed, but in $total s, over the budget of $BUDGET s: find the step that grew in the table above" >&2
  exit 1
fi
echo "all tests passed in $total s"
