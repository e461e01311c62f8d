#!/usr/bin/env bash
# Every test of every runtime, on a fresh machine: installs what it needs,
# then runs the Rust checks, the conformance vectors and each binding's suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
start=$(date +%s)

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
MFAGATE_ROUTERS_SEED=20261207 bash tests/routers/run.sh 10000

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

echo
echo "all tests passed in $(( $(date +%s) - start )) s"
