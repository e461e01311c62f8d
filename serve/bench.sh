#!/usr/bin/env bash
# The load test of docs/benchmarks.md ("mfagate serve"): wrk through nginx
# on 127.0.0.1, GET /v1/customers with an RS256 App+User token that is
# allowed, to an application nginx answers itself, with and without the
# gate (auth_request to mfagate-serve, the shipped serve/proxies/nginx.conf).
# 1. Saturation: wrk -t2 -c64, closed loop, each setup.
# 2. Half of the gated setup's saturation, held with wrk's Lua delay()
#    (each of 32 connections waits a fixed time between requests, so both
#    setups get the same rate; wrk2 is not in Debian): p50 and p99 of both.
# Run it on a quiet machine, after serve/test.sh (which installs wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
DURATION="${DURATION:-15s}"
cargo build -q --release -p mfagate-serve
BIN="$CARGO_TARGET_DIR/release/mfagate-serve"
dir="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

read -r POLICY TOKEN < <(python3 - <<'PY'
import json
f = json.load(open("tests/vectors/api.json"))
c = next(c for c in f["cases"] if c["id"] == "api-seed-sample-mfa")
print(json.dumps(c["policy"], separators=(",", ":")), c["request"]["authorization"][7:])
PY
)
cat > "$dir/serve.toml" <<TOML
listen = "127.0.0.1:19180"
policy = '$POLICY'
jwks = "$PWD/tests/keys/jwks.json"
# The vectors' tokens are valid at this time only: testing clock.
clock = "fixed:1767225600"
TOML
"$BIN" --config "$dir/serve.toml" --testing >/dev/null 2>"$dir/serve.log" &
pids+=($!)

site="$(sed -e 's/127.0.0.1:9180/127.0.0.1:19180/' -e 's/127.0.0.1:8080/127.0.0.1:19181/' -e 's/127.0.0.1:8000/127.0.0.1:19182/' serve/proxies/nginx.conf)"
cat > "$dir/nginx.conf" <<NGINX
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/b; proxy_temp_path $dir/p; fastcgi_temp_path $dir/f; uwsgi_temp_path $dir/u; scgi_temp_path $dir/s;
  # The application: nginx answers it itself.
  server { listen 127.0.0.1:19181; location / { return 200 "ok\n"; } }
  # Without the gate.
  upstream direct { server 127.0.0.1:19181; keepalive 32; }
  server { listen 127.0.0.1:19183; location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://direct; } }
  # With the gate.
$site
}
NGINX
nginx -c "$dir/nginx.conf" -p "$dir" &
pids+=($!)
sleep 1
for port in 19182 19183; do
  curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/v1/customers" >/dev/null \
    || { echo "port $port does not answer 200"; cat "$dir/serve.log" "$dir/nginx-error.log"; exit 1; }
done

run() { # port, wrk args...
  local port=$1; shift
  wrk "$@" -d "$DURATION" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/v1/customers"
}
rps() { awk '/Requests\/sec/ {print int($2)}'; }
pct() { awk -v p="$1" '$1 == p {print $2}'; }

echo "== saturation: wrk -t2 -c64"
run 19183 -t2 -c64 > "$dir/sat-direct.txt"
run 19182 -t2 -c64 > "$dir/sat-gate.txt"
sat_direct=$(rps < "$dir/sat-direct.txt"); sat_gate=$(rps < "$dir/sat-gate.txt")
echo "without the gate: $sat_direct req/s, p50 $(pct 50% < "$dir/sat-direct.txt"), p99 $(pct 99% < "$dir/sat-direct.txt")"
echo "with the gate:    $sat_gate req/s, p50 $(pct 50% < "$dir/sat-gate.txt"), p99 $(pct 99% < "$dir/sat-gate.txt")"

half=$(( sat_gate / 2 ))
conns=32
delay_ms=$(python3 -c "print(round($conns * 1000 / $half, 3))")
cat > "$dir/paced.lua" <<LUA
-- Each connection waits this long between requests: about $half req/s over $conns connections.
function delay() return $delay_ms end
LUA
echo "== half the gated saturation ($half req/s): $conns connections, delay() $delay_ms ms"
run 19183 -t2 -c$conns -s "$dir/paced.lua" > "$dir/half-direct.txt"
run 19182 -t2 -c$conns -s "$dir/paced.lua" > "$dir/half-gate.txt"
echo "without the gate: $(rps < "$dir/half-direct.txt") req/s, p50 $(pct 50% < "$dir/half-direct.txt"), p99 $(pct 99% < "$dir/half-direct.txt")"
echo "with the gate:    $(rps < "$dir/half-gate.txt") req/s, p50 $(pct 50% < "$dir/half-gate.txt"), p99 $(pct 99% < "$dir/half-gate.txt")"
grep -E 'non-2xx|Socket errors' "$dir"/*.txt || true
echo "== gate metrics"
curl -fsS http://127.0.0.1:19180/metrics | grep -E '^mfagate_decisions_total|^mfagate_decision_seconds_(sum|count)'
