"""The installed ``mfagate`` console script and ``python -m mfagate``: the Rust
CLI compiled into the extension. Where the Rust binary is built
(``cargo build -p mfagate-cli``), both are run on the same arguments and must
print the same bytes with the same exit status."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import pytest

from conftest import REPO

Arg = Union[str, bytes]
SCRIPT = Path(sys.executable).parent / "mfagate"
RUST = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug" / "mfagate"
NOW = "1700000000"
TENANT = "6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f"
API = (
    '{"aud": "https://api.partnercenter.microsoft.com", "iss": "https://sts.windows.net/%s/", "tid": "%s", '
    '"oid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "ver": "1.0", "upn": "alice@contoso.example", '
    '"appid": "1950a258-227b-4e31-a9cf-717495945fc2", "scp": "user_impersonation", "amr": ["pwd"]}'
) % (TENANT, TENANT)


def script() -> str:
    found = str(SCRIPT) if SCRIPT.exists() else shutil.which("mfagate")
    if found is None:
        pytest.fail("the wheel's mfagate console script is not installed beside this Python")
    return found


def run(
    cmd: Sequence[Arg], args: Sequence[Arg], stdin: Optional[bytes] = None
) -> Tuple[int, bytes, bytes]:
    p = subprocess.run(
        [*cmd, *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )
    return p.returncode, p.stdout, p.stderr


def signed_token() -> str:
    # RS256 signatures are deterministic: the same token from both CLIs.
    code, out, err = run(
        [script()],
        ["token", "sign", "--key", "tests/keys/rsa-signing-1.pem", "--claims", "-", "--now", NOW],
        stdin=API.encode(),
    )
    assert code == 0, err
    assert b"WARNING: signed with the repository's TEST key rsa-1" in err
    return out.decode().strip()


@pytest.fixture(scope="module")
def lint_bad(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("cli") / "lint-bad.toml"
    p.write_text('extends = "partner-center"\n[token]\naudiences = []\n[routes.a]\npaths = ["/a/**/b"]\n')
    return str(p)


def cases(token: str, lint_bad: str) -> List[Tuple[List[Arg], int]]:
    """Arguments, and the exit status they must give."""
    check = ["check", "--jwks", "tests/keys/jwks.json", "--path", "/v1/customers", "--now", NOW]
    return [
        (["--help"], 0),
        (["--version"], 0),
        (["help", "check"], 0),
        (["policy", "lint", "-h"], 0),
        (["demo"], 0),
        (["demo", "--json"], 0),
        (["vectors"], 0),
        (["vectors", "tests/vectors"], 0),
        (["inspect", token, "--now", NOW], 0),
        (["inspect", token, "--now", NOW, "--json", "--lang", "fr"], 0),
        (["inspect", "not-a-token"], 2),
        ([*check, "--authorization", "Bearer " + token], 1),
        ([*check, "--authorization", "Bearer " + token, "--json", "--lang", "pt-BR"], 1),
        (["check", "--path", "/v1/customers", "--now", NOW], 1),
        ([*check, "--policy", "partner-centre"], 2),
        (["policy", "lint", lint_bad], 1),
        (["policy", "lint", lint_bad, "--json"], 1),
        (["policy", "lint", "missing.toml"], 2),
        (["policy", "lint", b"\xff-not-utf-8.toml"], 2),
        (["policy", "show", "partner-center-2026"], 0),
        (["policy", "schema"], 0),
        (["token", "sign", "--key", "tests/keys/rsa-signing-1.pem", "--claims", "missing.json"], 2),
        (["completions", "bash"], 0),
        (["man"], 0),
        (["chekc"], 2),
        (["check"], 2),
        (["check", "--path", "/", "--lang", "de"], 2),
    ]


def test_every_command_runs_from_the_wheel(lint_bad: str) -> None:
    token = signed_token()
    for args, status in cases(token, lint_bad):
        code, out, err = run([script()], args)
        assert code == status, (args, err)
        assert b"Traceback" not in err and b"panicked" not in err, (args, err)
    code, out, _ = run([script()], ["--help"])
    assert out.startswith(b"Partner Center MFA decisions") and b"Usage: mfagate <COMMAND>" in out
    for cmd in (b"demo", b"vectors", b"token", b"completions", b"man"):
        assert b"\n  " + cmd + b" " in out, cmd
    code, out, _ = run([script()], ["vectors"])
    assert out.endswith(b" passed, 0 failed\n") and not out.startswith(b"0 passed"), out
    code, out, err = run([script()], ["chekc"])
    assert (code, out) == (2, b"")
    assert b"a similar subcommand exists: 'check'" in err and b"Usage: mfagate <COMMAND>" in err, err


@pytest.mark.skipif(not RUST.exists(), reason="the Rust CLI is not built (cargo build -p mfagate-cli)")
def test_the_same_output_and_status_as_the_rust_binary(lint_bad: str) -> None:
    token = signed_token()
    for args, _ in cases(token, lint_bad):
        assert run([script()], args) == run([str(RUST)], args), args
    # python -m mfagate too; and the token sign of each gives the same token.
    args: List[Arg] = ["inspect", token, "--now", NOW]
    assert run([sys.executable, "-m", "mfagate"], args) == run([str(RUST)], args)
    sign = ["token", "sign", "--key", "tests/keys/rsa-signing-1.pem", "--claims", "-", "--now", NOW]
    assert run([script()], sign, API.encode()) == run([str(RUST)], sign, API.encode())


def test_a_token_on_stdin() -> None:
    token = signed_token()
    code, out, _ = run([sys.executable, "-m", "mfagate"], ["inspect", "--now", NOW], stdin=token.encode())
    assert code == 0
    assert out.startswith(b"UNVERIFIED: ") and TENANT.encode() in out


def test_python_s_buffered_output_comes_first() -> None:
    program = "import sys; from mfagate.__main__ import main; print('before'); sys.exit(main(['--version']))"
    code, out, _ = run([sys.executable, "-c", program], [])
    assert (code, out.decode().splitlines()[:1]) == (0, ["before"]), out
    assert out.decode().splitlines()[1].startswith("mfagate ")


@pytest.mark.parametrize("args", [["demo"], ["policy", "schema"], ["--help"], ["check", "--path", "/", "--now", NOW]])
def test_a_closed_pipe_ends_quietly_with_status_141(args: List[str]) -> None:
    # As `mfagate demo | head -0`: the reader is gone before the first write.
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run(
            [script(), *args], stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE, cwd=REPO, timeout=60
        )
    finally:
        os.close(w)
    assert p.returncode == 141, p.stderr
    assert b"Traceback" not in p.stderr and b"Broken pipe" not in p.stderr and b"panicked" not in p.stderr, p.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_ctrl_c_ends_a_command_waiting_on_stdin() -> None:
    pipe = subprocess.PIPE
    p = subprocess.Popen([script(), "inspect"], stdin=pipe, stdout=pipe, stderr=pipe)
    try:
        # Signal once the extension is loaded (Python's own SIGINT handler is
        # in place by then) and SIGINT is no longer caught: main() has set
        # the default action, just before the native code reads stdin.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = Path(f"/proc/{p.pid}/status").read_text()
            caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
            if "_mfagate" in Path(f"/proc/{p.pid}/maps").read_text() and not caught & (1 << (signal.SIGINT - 1)):
                break
            time.sleep(0.01)
        else:
            pytest.fail("mfagate inspect did not start")
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == -signal.SIGINT, err
    assert b"Traceback" not in err, err
