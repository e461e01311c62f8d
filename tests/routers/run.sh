#!/usr/bin/env bash
# The router differential (issue 18, "The guard"; docs/security.md): sends
# generated requests to REAL routers (echo applications that report the route
# they dispatched) and asks the gate (the Python wheel, in process) for the
# same request with a token that has neither MFA nor roles. Fails when a
# router dispatched a route that needs MFA or roles and the gate allowed.
#
#   bash tests/routers/run.sh            # 10,000 requests per router, a fresh seed
#   bash tests/routers/run.sh 100000     # more
#   MFAGATE_ROUTERS_SEED=7 bash tests/routers/run.sh      # replay a seed
#   MFAGATE_ROUTERS="starlette flask" bash tests/routers/run.sh   # some routers
#   MFAGATE_ROUTERS_WHEEL=/path/mfagate-*.whl bash tests/routers/run.sh  # another
#       build of the gate (an older core: the differential must then fail)
#   bash tests/routers/run.sh --prepare   # only the installs and the Go and
#       Tomcat builds (scripts/test.sh runs it beside the first builds)
#
# Installs what it needs: a venv in tests/routers/.venv (the routers, maturin),
# npm packages in tests/routers/node_modules, Debian's golang-go when `go` is
# missing (as root). Builds the CLI (to sign the token) and the wheel (debug
# profile: the target/debug build output is shared). Starts one router at a
# time, stops each by its pid, and checks that none is left at exit.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
. scripts/lib.sh
ensure_rust

PREPARE=0
if [ "${1:-}" = --prepare ]; then PREPARE=1; shift; fi
COUNT="${1:-${MFAGATE_ROUTERS_COUNT:-10000}}"
SEED="${MFAGATE_ROUTERS_SEED:-$(( ($(date +%s%N) / 1000) % 4294967296 ))}"
ALL_ROUTERS="starlette flask express5 express4 fastify fastify-h2 go django hono tomcat"
ROUTERS="${MFAGATE_ROUTERS:-$ALL_ROUTERS}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BUILD="$HERE/.build"
VENV="$HERE/.venv"
PY="$VENV/bin/python"
WORK="$(mktemp -d /tmp/mfagate-routers.XXXXXX)"
mkdir -p "$BUILD"; rm -rf "$BUILD/results"

# --- every server started is recorded here and stopped at exit -----------
PIDS=()
stop_pid() { # pid: TERM, then KILL after 5 s; waits for it
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$? pid left=()
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
  if [ ${#left[@]} -gt 0 ]; then
    echo "routers: servers still running after cleanup: ${left[*]}" >&2; rc=1
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

without() { local drop="$1" w out=(); shift; for w in "$@"; do [ "$w" = "$drop" ] || out+=("$w"); done; echo "${out[*]}"; }

# --- installs ----------------------------------------------------------------
if [ ! -x "$PY" ]; then
  echo "== creating $VENV"
  python3 -m venv "$VENV" || { echo "routers: cannot create a venv (on Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "== installing tests/routers/requirements.txt"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  echo "$WANT" > "$STAMP"
fi
NSTAMP="$HERE/node_modules/.package-lock.sha256"
NWANT="$(cat "$HERE/package.json" "$HERE/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ ! -f "$NSTAMP" ] || [ "$(cat "$NSTAMP")" != "$NWANT" ]; then
  echo "== installing the Node routers (npm)"
  (cd "$HERE" && npm install --no-audit --no-fund --silent)
  echo "$NWANT" > "$NSTAMP"
fi
if [[ " $ROUTERS " == *" go "* ]]; then
  if ! command -v go >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "== installing golang-go (Debian)"
      apt-get install -y -qq golang-go >/dev/null || { apt-get update -qq && apt-get install -y -qq golang-go >/dev/null; }
    fi
  fi
  if command -v go >/dev/null 2>&1; then
    (cd "$HERE/apps" && GOCACHE="$BUILD/gocache" GO111MODULE=off go build -o "$BUILD/go_app" go_app.go)
  else
    echo "routers: go is missing and could not be installed: Go net/http skipped" >&2
    ROUTERS="$(without go $ROUTERS)"
  fi
fi

if [[ " $ROUTERS " == *" tomcat "* ]]; then
  if ! ls /usr/share/java/tomcat10-catalina.jar >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "== installing libtomcat10-java and a JDK (Debian)"
      apt-get install -y -qq libtomcat10-java openjdk-17-jdk-headless >/dev/null \
        || { apt-get update -qq && apt-get install -y -qq libtomcat10-java openjdk-17-jdk-headless >/dev/null; } || true
    fi
  fi
  TOMCAT_CP="$(ls /usr/share/java/tomcat10-{catalina,coyote,servlet-api,api,util,util-scan,juli,jni,annotations-api,jaspic-api}.jar 2>/dev/null | tr '\n' ':')"
  if command -v javac >/dev/null 2>&1 && [ -n "$TOMCAT_CP" ]; then
    mkdir -p "$BUILD/tomcat"
    javac -nowarn -d "$BUILD/tomcat" -cp "$TOMCAT_CP" "$HERE/apps/tomcat/EchoServer.java" 2>/dev/null
  else
    echo "routers: Tomcat 10 (libtomcat10-java) or javac is missing and could not be installed: Tomcat skipped" >&2
    ROUTERS="$(without tomcat $ROUTERS)"
  fi
fi

[ "$PREPARE" = 1 ] && exit 0

# --- the gate: the CLI (to sign the token) and the wheel ---------------------
cargo build -q -p mfagate-cli
if [ -n "${MFAGATE_ROUTERS_WHEEL:-}" ]; then
  echo "== the gate: $MFAGATE_ROUTERS_WHEEL"
  WHEEL="$MFAGATE_ROUTERS_WHEEL"
else
  echo "== building the CLI and the Python wheel (debug profile)"
  rm -rf "$BUILD/wheel"
  (cd bindings-python && "$VENV/bin/maturin" build --quiet --interpreter "$PY" --out "$BUILD/wheel" >/dev/null)
  WHEEL="$(ls "$BUILD"/wheel/mfagate-*.whl)"
fi
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
# A user token without MFA (amr pwd) and without roles (another tenant than
# the policy's partner tenant), valid for a day from the driver's clock.
"$TARGET/debug/mfagate" token sign --key tests/keys/rsa-signing-1.pem --claims "$HERE/claims.json" \
  --now 1700000000 --lifetime 86400 > "$WORK/token.txt" 2>/dev/null

# --- the routers ------------------------------------------------------------
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port pid
  local i
  for i in $(seq 200); do
    kill -0 "$2" 2>/dev/null || return 1
    "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
start_router() { # name port: starts it in the background, sets SERVER_PID
  local name="$1" port="$2" log="$WORK/$1.server.log"
  cd "$HERE/apps"
  case "$name" in
    starlette) "$PY" -m uvicorn starlette_app:app --host 127.0.0.1 --port "$port" --log-level warning > "$log" 2>&1 & ;;
    flask) "$PY" flask_app.py "$port" > "$log" 2>&1 & ;;
    django) "$PY" django_app.py "$port" > "$log" 2>&1 & ;;
    express5|express4|fastify|fastify-h2|hono) node node_apps.js "$name" "$port" > "$log" 2>&1 & ;;
    go) "$BUILD/go_app" "$port" > "$log" 2>&1 & ;;
    tomcat) java -Djava.io.tmpdir="$WORK" -cp "$TOMCAT_CP$BUILD/tomcat" EchoServer "$port" > "$log" 2>&1 & ;;
    *) echo "routers: unknown router $name" >&2; cd "$ROOT"; return 1 ;;
  esac
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  cd "$ROOT"
}

echo "== router differential: $COUNT requests per router, seed $SEED (replay: MFAGATE_ROUTERS_SEED=$SEED)"
failed=()
for name in $ROUTERS; do
  port="$(free_port)"
  start_router "$name" "$port"
  if ! wait_port "$port" "$SERVER_PID"; then
    echo "$name: the server did not start:" >&2; tail -20 "$WORK/$name.server.log" >&2
    stop_pid "$SERVER_PID"; failed+=("$name"); continue
  fi
  start=$(date +%s)
  h2=(); [ "$name" = fastify-h2 ] && h2=(--http2)
  if ! "$PY" "$HERE/driver.py" "$name" "$port" --count "$COUNT" --seed "$SEED" "${h2[@]}" \
      --token "$WORK/token.txt" --out "$BUILD/results"; then
    failed+=("$name")
  fi
  stop_pid "$SERVER_PID"
  if kill -0 "$SERVER_PID" 2>/dev/null; then echo "$name: server $SERVER_PID did not stop" >&2; exit 1; fi
  echo "   ($name: $(( $(date +%s) - start )) s, server stopped)"
done

"$PY" - "$BUILD/results" $ROUTERS <<'EOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print(f"{'router':<10} {'requests':>9} {'accepted':>9} {'checked':>8} {'violations':>10} {'seconds':>8}")
for name in sys.argv[2:]:
    p = out / f"{name}.json"
    if p.exists():
        s = json.loads(p.read_text())
        print(f"{name:<10} {s['requests']:>9} {s['accepted']:>9} {s['checked']:>8} {s['violations']:>10} {s['seconds']:>8}")
    else:
        print(f"{name:<10} (no result)")
EOF
if [ ${#failed[@]} -gt 0 ]; then
  echo "router differential: FAILED for ${failed[*]} (seed $SEED; replay with MFAGATE_ROUTERS_SEED=$SEED; details in tests/routers/.build/results)" >&2
  exit 1
fi
echo "router differential: $COUNT requests per router, seed $SEED: no router dispatched a protected route the gate allowed"
