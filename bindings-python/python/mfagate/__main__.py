"""``python -m mfagate`` and the ``mfagate`` console script: the Rust CLI's
``inspect``, ``check`` and ``policy lint``, over this package's API, with the
same output and exit statuses (0: allowed / no error, 1: refused / the policy
has an error, 2: the command was wrong). Usage errors are worded by argparse,
not clap. The other commands (``demo``, ``policy show``, ``policy schema``,
``vectors``, ``token sign``, ``completions``, ``man``) are only in the Rust CLI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any, Dict, List, NoReturn, Optional, Sequence

from ._errors import MfagateError
from ._mfagate import (
    Decision,
    Gate,
    KeySet,
    __version__,
    _format_rfc3339,
    _inspect_json,
    _lint_json,
    _system_now,
)

POLICY_HELP = (
    "A POLICY is a built-in name (partner-center = partner-center-2020, partner-center-2019, -2020, -2025, -2026), "
    'the JSON text of a spec ({"builtin": ..., "overrides": {...}}), or a file ending in .toml or .json.'
)
LANGS = ("en", "fr", "pt-BR")
RUST_ONLY = ("demo", "vectors", "token", "completions", "man")


class _Failed(Exception):
    """A message for ``mfagate: ...`` on stderr, exit status 2."""


def _roles(roles: Sequence[str]) -> str:
    return ", ".join(roles) if roles else "none"


def _amr(amr: Optional[Sequence[str]]) -> str:
    return "absent" if amr is None else "[" + ", ".join(amr) + "]"


def print_decision(d: Decision, lang: str) -> None:
    """cli/src/print.rs ``decision``, line for line."""
    evidence = f" ({d.kind_evidence})" if d.kind_evidence is not None else ""
    print(f"outcome   {d.outcome} ({d.reason})")
    print(f"rule      {d.rule if d.rule is not None else '-'}   kind {d.token_kind or '-'}{evidence}")
    print(f"roles     {_roles(d.roles)}")
    m = d.mfa
    print(
        f"mfa       {'required' if m.required else 'not required'}, "
        f"{'satisfied' if m.satisfied else 'not satisfied'}; amr {_amr(m.amr)}"
        + (f"; evidence {m.evidence}" if m.evidence is not None else "")
    )
    if d.exception is not None:
        e = d.exception
        print(f"exception {e.reason} for tenant {e.tenant} until {e.expires}")
    print(f"http      {d.http.status} {d.http.status_text}")
    for k, v in d.http.headers:
        print(f"          {k}: {v}")
    if d.redirect is not None and d.redirect.register_first:
        print("          (register an MFA method first)")
    print(f"message   {d.message.get(lang)}")
    if d.detail is not None:
        print(f"detail    {d.detail}")


def print_inspection(i: Dict[str, Any], lang: str) -> None:
    """cli/src/print.rs ``inspection``, over the core's JSON form."""
    claims: Dict[str, Any] = i["claims"] if isinstance(i["claims"], dict) else {}
    at = i["evaluated_at"]
    print("UNVERIFIED: the signature was not checked; the rules below are decided on its claims as of the time shown.")
    print(f"time      {_format_rfc3339(at)} ({at})")
    for name, label in (("iat", "issued"), ("nbf", "not before"), ("exp", "expires"), ("auth_time", "signed in")):
        v = claims.get(name)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            t = math.floor(v)
            flag = ""
            if name == "exp" and t <= at:
                flag = "   EXPIRED"
            elif name in ("nbf", "iat") and t > at:
                flag = "   NOT YET VALID"
            print(f"{label:<10}{_format_rfc3339(t)} ({t}){flag}")
    print(f"kind      {i['kind']} ({i['kind_evidence']})")
    print(f"version   {i['version'] if i['version'] is not None else '-'}")

    def get(k: str) -> str:
        v = claims.get(k)
        return v if isinstance(v, str) else "-"

    print(f"tenant    {get('tid')}   issuer {get('iss')}")
    if i.get("assumed_partner_tenant") is not None:
        print("          taken as the partner tenant (the policy names none in token.partner_tenants)")
    print(f"user      {get('upn')}   app {get('azp') if get('appid') == '-' else get('appid')}")
    mfa = i["mfa"]
    print(
        f"mfa       amr {_amr(mfa['amr'])}; contains \"mfa\": {'yes' if mfa['amr_has_mfa'] else 'no'}; "
        f"federated multipleauthn: {'yes' if mfa['federated_mfa'] else 'no'}"
    )
    print(f"roles     {_roles(i['roles'])}{' (group overage: group roles unknown)' if i['groups_overage'] else ''}")
    print(f"\npolicy {i['policy']}:")
    for r in i["rules"]:
        d = r["decision"]
        print(f"  {r['rule']:<18} {r['path']:<40} {d['outcome']:<8} {d['reason']:<28} {d['http']['status']}")
        message = d["message"]
        print(f"  {'':<18} {message.get(lang, message['en'])}")


def print_problems(file: str, problems: List[Dict[str, Any]]) -> None:
    """cli/src/print.rs ``problems``."""
    if not problems:
        print(f"{file}: no problems")
    for p in problems:
        at = f":{p['line']}" if p["line"] is not None else ""
        print(f"{file}{at}: {p['severity']}[{p['code']}]: {p['message']}")
        if p["hint"]:
            print(f"  hint: {p['hint']}")


def _json(text: str) -> None:
    print(text)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        # The Rust CLI's wording (std::io::Error's Display).
        raise _Failed(f"{path}: {e.strerror} (os error {e.errno})") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mfagate",
        description="Partner Center MFA decisions: explain tokens, decide requests, lint policies "
        "(the Python package's subset of the mfagate CLI).",
        epilog=POLICY_HELP,
    )
    p.add_argument("--version", action="version", version=f"mfagate {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    i = sub.add_parser("inspect", help="Explain a token without verifying it", epilog=POLICY_HELP)
    i.add_argument("token", nargs="?", help="The token (a JWT), or - (the default) to read it from standard input.")
    i.add_argument("--policy", metavar="POLICY", default="partner-center", help="The policy whose rules to show.")
    i.add_argument("--now", metavar="UNIX", type=int, help="The time to evaluate at, Unix seconds (default: now).")
    i.add_argument("--lang", choices=LANGS, default="en", help="The language of the messages.")
    i.add_argument("--json", action="store_true", help="Print the inspection as JSON.")

    c = sub.add_parser(
        "check",
        help="Decide one request, as a gate would",
        description="Decide one request, as a gate would. Exit status 0: allowed, 1: refused, 2: the command was wrong.",
        epilog=POLICY_HELP,
    )
    c.add_argument("--path", required=True, help="The request path (with its query, if any).")
    c.add_argument("--policy", metavar="POLICY", default="partner-center", help="The policy to decide with.")
    c.add_argument("--jwks", metavar="FILE", help="The JWK Set (a file) whose keys verify signatures.")
    c.add_argument("--method", default="GET", help="The HTTP method.")
    c.add_argument("--host", help="The Host header.")
    cred = c.add_mutually_exclusive_group()
    cred.add_argument("--authorization", metavar="HEADER", help="The Authorization header, `Bearer <token>`.")
    cred.add_argument("--token", help="A page's session token (an ID token).")
    c.add_argument("--now", metavar="UNIX", type=int, help="The time to decide at, Unix seconds (default: now).")
    c.add_argument(
        "--mfa-registered",
        metavar="BOOL",
        choices=("true", "false"),
        help="Whether the user has an MFA method registered (false: the redirect asks to register one first).",
    )
    c.add_argument("--validate-mfa", action="store_true", help="Send `ValidateMfa: true`.")
    c.add_argument("--lang", choices=LANGS, default="en", help="The language of the message.")
    c.add_argument("--json", action="store_true", help="Print the decision as JSON.")

    pol = sub.add_parser("policy", help="Policies: lint a file")
    psub = pol.add_subparsers(dest="policy_command", metavar="COMMAND")
    psub.required = True
    lint = psub.add_parser(
        "lint",
        help="Every problem of a policy file, with its line and a hint",
        description="Every problem of a policy file, with its line and a hint. Exit status 1 when there is an error.",
    )
    lint.add_argument("file", help="The policy file (.toml, or .json).")
    lint.add_argument("--json", action="store_true", help="Print the problems as JSON.")
    return p


def _inspect(a: argparse.Namespace) -> int:
    token = sys.stdin.read() if a.token in (None, "-") else a.token
    now = a.now if a.now is not None else _system_now()
    try:
        text = _inspect_json(token, a.policy, now)
    except ValueError as e:
        raise _Failed(str(e)) from None
    if a.json:
        _json(text)
    else:
        print_inspection(json.loads(text), a.lang)
    return 0


def _check(a: argparse.Namespace) -> int:
    if a.jwks is not None:
        keys = KeySet(_read(a.jwks))
    else:
        print(
            "mfagate: no --jwks given: no key verifies signatures, so a signed token is refused (key_not_found); "
            "pass the JWK Set of your tenant's jwks_uri",
            file=sys.stderr,
        )
        keys = KeySet('{"keys": []}')
    gate = Gate(a.policy, keys)
    d = gate.evaluate(
        a.path,
        method=a.method,
        host=a.host,
        authorization=a.authorization,
        token=a.token,
        now=a.now if a.now is not None else _system_now(),
        mfa_registered=None if a.mfa_registered is None else a.mfa_registered == "true",
        validate_mfa=True if a.validate_mfa else None,
    )
    if a.json:
        _json(json.dumps(json.loads(d.to_json()), indent=2, ensure_ascii=False))
    else:
        print_decision(d, a.lang)
    return 0 if d.allowed else 1


def _lint(a: argparse.Namespace) -> int:
    src = _read(a.file)
    problems: List[Dict[str, Any]] = json.loads(
        _lint_json(src, os.path.splitext(a.file)[1].lower() == ".json", _system_now())
    )
    if a.json:
        _json(json.dumps(problems, indent=2, ensure_ascii=False))
    else:
        print_problems(a.file, problems)
    return 1 if any(p["severity"] == "error" for p in problems) else 0


def _rust_only(command: str) -> NoReturn:
    print(
        f"mfagate: '{command}' is a command of the Rust CLI only (cargo install --path cli, from a checkout); "
        "the Python package has inspect, check and policy lint",
        file=sys.stderr,
    )
    sys.exit(2)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in RUST_ONLY:
        _rust_only(args[0])
    if args[:1] == ["policy"] and len(args) > 1 and args[1] in ("show", "schema"):
        _rust_only("policy " + args[1])
    a = _parser().parse_args(args)
    try:
        if a.command == "inspect":
            return _inspect(a)
        if a.command == "check":
            return _check(a)
        return _lint(a)
    except (_Failed, MfagateError) as e:
        print(f"mfagate: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
