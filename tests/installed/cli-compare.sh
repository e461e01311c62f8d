#!/usr/bin/env bash
# The wheel's `mfagate` command against the Rust CLI: the same inputs give
# the same standard output, standard error and exit status, for every
# command (the wheel runs the CLI's own code, cli/src/lib.rs). Also
# `python -m mfagate`.
#   tests/installed/cli-compare.sh RUST_MFAGATE PY_MFAGATE PY WORK
set -uo pipefail
RUST="$1" PYCLI="$2" PY="$3" WORK="$4"
cd "$WORK"
T() { python3 -c "import json,sys; print(json.load(open('tokens.json'))[sys.argv[1]])" "$1"; }
OLD="$(T api_old)" PWD_ID="$(T id_pwd)" MFA_ID="$(T id_mfa)" API_PWD="$(T api_pwd)"
# One clock for both commands: inspect prints the time it evaluates at, and
# the two runs of a case may fall in different seconds (seen in CI).
NOW="$(date +%s)"
printf 'extends = "partner-center"\n[token]\naudiences = []\n[routes.a]\npaths = ["/a/**/b"]\n' > lint-bad.toml
printf 'extends = "partner-center"\n' > lint-roles.toml
printf '{"extends": "partner-center-2026", "token": {"audiences": ["api://x"], "partner_tenants": ["6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f"]}}\n' > lint-ok.json
ROLES='{"builtin": "partner-center", "overrides": {"token": {"audiences": ["1950a258-227b-4e31-a9cf-717495945fc2"], "partner_tenants": ["6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f"]}, "roles": {"groups": {"admin_agent": ["a1b2c3d4-0000-4000-8000-000000000001"]}}}}'
cases=(
  "inspect $OLD --now 1700000060"
  "inspect $OLD --now 1700009999 --lang fr"
  "inspect $MFA_ID --json --now 1700000000"
  "inspect $MFA_ID --policy partner-center-2026 --lang pt-BR --now $NOW"
  "inspect not-a-token"
  "check --jwks data/jwks.json --path /v1/customers --authorization Bearer_$OLD --now 1700000060"
  "check --jwks data/jwks.json --path /v1/customers --authorization Bearer_$OLD --now 1700000060 --json"
  "check --jwks data/jwks.json --path /v1/customers --authorization Bearer_$API_PWD --lang fr --now $NOW"
  "check --jwks data/jwks.json --path /v1/customers --authorization Bearer_$OLD --now 1700000060 --validate-mfa --policy partner-center-2026"
  "check --jwks data/jwks.json --path /commerce/customers --token $PWD_ID --policy ROLES --mfa-registered false --now $NOW"
  "check --jwks data/jwks.json --path /commerce/customers --token $MFA_ID --policy ROLES --json --now $NOW"
  "check --path /v1/customers --now 1700000000"
  "check --jwks data/jwks.json --path /v1/customers --policy partner-centre"
  "check --jwks no-such.json --path /v1/customers"
  "policy lint lint-bad.toml"
  "policy lint lint-bad.toml --json"
  "policy lint lint-roles.toml"
  "policy lint lint-ok.json --json"
  "policy lint missing.toml"
  "policy show partner-center-2026"
  "policy schema"
  "demo"
  "demo --json"
  "vectors"
  "vectors data/vectors"
  "token sign --key no-such-key.pem --claims -"
  "completions bash"
  "man"
  "--version"
  "--help"
  "help check"
  "chekc"
  "check"
)
fail=0 n=0
for c in "${cases[@]}"; do
  read -r -a args <<<"$c"
  for i in "${!args[@]}"; do
    args[$i]="${args[$i]/#Bearer_/Bearer }"
    [[ "${args[$i]}" == ROLES ]] && args[$i]="$ROLES"
  done
  "$RUST" "${args[@]}" >rust.out 2>rust.err </dev/null; rs=$?
  "$PYCLI" "${args[@]}" >py.out 2>py.err </dev/null; ps=$?
  n=$((n + 1))
  label="mfagate $(cut -c1-90 <<<"$c")"
  if [[ $rs != "$ps" ]] || ! cmp -s rust.out py.out || ! cmp -s rust.err py.err; then
    echo "   DIFFERS: $label (exit $rs vs $ps)"; diff rust.out py.out | head -8; diff rust.err py.err | head -4
    fail=$((fail + 1))
  else
    echo "   same: $label (exit $rs)"
  fi
done
out="$("$PY" -m mfagate check --path /v1/customers --now 1700000000 2>/dev/null)"
if ! grep -qx 'outcome   deny (no_credential)' <<<"$out"; then
  echo "   python -m mfagate does not run"; fail=$((fail + 1))
fi
echo "   the Rust CLI and the wheel's mfagate: $((n - fail)) of $n the same"
exit $((fail > 0))
