#!/usr/bin/env bash
# mfagate-serve's checks: format, lints, and every test, including behind
# real nginx (auth_request) and Caddy (forward_auth). nginx, Caddy and wrk
# come from Debian's packages when missing; no system service is started
# (policy-rc.d refuses it during the install) and the tests run nginx and
# Caddy as their own processes on 127.0.0.1 with temporary configurations.
#   bash serve/test.sh --prepare   only those installs (scripts/test.sh runs
#                                  it beside the first builds)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
start=$(date +%s)

need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]} from Debian's packages (no service is started)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# mfagate serve/test.sh: no service starts during this install\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  cleanup() { if [ "$made_policy" = 1 ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup EXIT
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  cleanup
  made_policy=0
fi
if [ "${1:-}" = --prepare ]; then exit 0; fi

step "mfagate-serve: format and lints"
cargo fmt -p mfagate-serve -- --check
# scripts/test.sh lints the whole workspace first (MFAGATE_WORKSPACE_LINTED=1):
# this crate is in it, so the clippy run here would repeat it.
if [ "${MFAGATE_WORKSPACE_LINTED:-0}" != 1 ]; then
  cargo clippy -q -p mfagate-serve --all-targets -- -D warnings
fi

step "mfagate-serve: unit, protocol, operations, nginx and Caddy tests"
# Every test keeps its files, and runs what it starts (nginx, Caddy, the
# mfagate-serve binary, the CGI-style app), in a directory under this root;
# afterwards no process may be left whose working directory or command line
# is in it.
export MFAGATE_SERVE_TEST_ROOT
MFAGATE_SERVE_TEST_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/mfagate-serve-tests.XXXXXX")"
left_over() {
  local pid cwd cmd
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" = "$$" ] && continue
    cwd=$(readlink "$d/cwd" 2>/dev/null || true)
    cmd=$( { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null || true)
    case "$cwd $cmd" in
      *"$MFAGATE_SERVE_TEST_ROOT"*) echo "  $pid: $cmd (in ${cwd:-?})" ;;
    esac
  done
}
status=0
MFAGATE_PROXY_TESTS=1 cargo test -q -p mfagate-serve || status=$?
sleep 1
left=$(left_over)
if [ -n "$left" ]; then
  echo "FAILED: processes the tests started are still running:" >&2
  echo "$left" >&2
  status=1
fi
[ "$status" = 0 ] || exit "$status"
rm -rf "$MFAGATE_SERVE_TEST_ROOT"

echo
echo "mfagate-serve: all tests passed in $(( $(date +%s) - start )) s"
