#!/usr/bin/env bash
# mfagate-serve's release tarball, unpacked where an operator would (outside
# the checkout) and run as docs/serve.md says: `--check`, then serving on
# 127.0.0.1 with a JWK Set file. Each request through the forward-auth
# endpoint (Caddy, Traefik) and the nginx endpoint gets the answer of the
# Rust CLI's `mfagate check` for the same request (tests/installed/serve_compare.py);
# /healthz, /readyz and /metrics answer; an audit line per decision; SIGTERM
# stops it with status 0.
#   tests/installed/serve-installed.sh TARBALL WORK RUST_MFAGATE [RUNNER...]
# RUNNER runs the binary, e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu` for
# the aarch64 one. WORK holds data/jwks.json and tokens.json (tests/installed/test.sh).
set -euo pipefail
TGZ="$1" WORK="$2" RUST="$3"
shift 3
RUNNER=("$@")
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
name="$(basename "$TGZ" .tar.gz)"
D="$WORK/serve-$name"
rm -rf "$D" && mkdir -p "$D"
tar xzf "$TGZ" -C "$D"
BIN="$D/$name/mfagate-serve"
for f in mfagate-serve README.md LICENSE-MIT LICENSE-APACHE; do
  [[ -f "$D/$name/$f" ]] || { echo "$name.tar.gz has no $name/$f"; exit 1; }
done
[[ -x "$BIN" ]] || { echo "$name/mfagate-serve is not executable"; exit 1; }
serve() { "${RUNNER[@]}" "$BIN" "$@"; }

version="$(serve --version)"
echo "   $version${RUNNER:+ (under ${RUNNER[*]})}"
[[ "$version" == "mfagate-serve $(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)" ]]

# The policy of tests/installed/cli-compare.sh's role cases (docs/policy.md): the
# Partner Center API and the app's client ID as audiences, a partner tenant
# and an agent group.
tenant="$(python3 -c "import json; print(json.load(open('$WORK/tokens.json'))['tenant'])")"
client="$(python3 -c "import json; print(json.load(open('$WORK/tokens.json'))['client_id'])")"
agents="$(python3 -c "import json; print(json.load(open('$WORK/tokens.json'))['agents'])")"
POLICY='{"builtin": "partner-center", "overrides": {"token": {"audiences": ["https://api.partnercenter.microsoft.com", "'$client'"], "partner_tenants": ["'$tenant'"]}, "roles": {"groups": {"admin_agent": ["'$agents'"]}}}}'
cat > "$D/serve.toml" <<TOML
listen = "127.0.0.1:0"
jwks = "$WORK/data/jwks.json"
TOML

cd "$D"
out="$(serve --config serve.toml --policy "$POLICY" --check 2>&1)" || { echo "$out"; echo "--check failed"; exit 1; }
echo "   --check: ${out#* mfagate-serve: }"
# A refused setting: status 2 and a message that names it.
st=0; out="$(serve --config serve.toml --policy "$POLICY" --listen nowhere 2>&1)" || st=$?
[[ "$st" == 2 && "$out" == *listen* ]] || { echo "$out"; echo "--listen nowhere: status $st, expected 2 and a message about listen"; exit 1; }

# Not through the function: $! must be the server's own process (or
# qemu's, which passes signals on), so that SIGTERM reaches it.
"${RUNNER[@]}" "$BIN" --config serve.toml --policy "$POLICY" > audit.jsonl 2> serve.log &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; }
trap stop EXIT
addr=""
for _ in $(seq 1 300); do
  addr="$(sed -n 's/.* mfagate-serve: listening on \(.*\)$/\1/p' serve.log)"
  [[ -n "$addr" ]] && break
  kill -0 "$pid" 2>/dev/null || { cat serve.log; echo "mfagate-serve exited before listening"; exit 1; }
  sleep 0.1
done
[[ -n "$addr" ]] || { cat serve.log; echo "mfagate-serve did not listen within 30 s"; exit 1; }

python3 "$ROOT/tests/installed/serve_compare.py" "$addr" "$RUST" "$WORK" "$POLICY" "$D/audit.jsonl"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
grep -q 'mfagate-serve: stopped' serve.log || { cat serve.log; echo "no 'stopped' line after SIGTERM"; exit 1; }
[[ "$status" == 0 ]] || { cat serve.log; echo "mfagate-serve exited with $status after SIGTERM"; exit 1; }
echo "   SIGTERM: stopped, status 0"
