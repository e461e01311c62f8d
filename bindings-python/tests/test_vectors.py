"""Runs the conformance vectors (tests/vectors/*.json, format mfagate-vectors/1)
unchanged, as docs/bindings.md says a runner must."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

import mfagate
from conftest import REPO, VECTOR_RESULTS

VECTOR_DIRS = [Path(os.environ.get("MFAGATE_VECTORS", REPO / "tests" / "vectors"))]


def _files() -> List[Path]:
    out: List[Path] = []
    for d in VECTOR_DIRS:
        if d.is_dir():
            out += sorted(p for p in d.glob("*.json") if p.name != "index.json")
    return out


def _cases() -> List[Any]:
    params = []
    for path in _files():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            assert doc["format"] == "mfagate-vectors/1", f"format {doc.get('format')!r}"
            cases = doc["cases"]
        except Exception as e:  # a malformed file is one failing case
            params.append(pytest.param(path, None, None, repr(e), id=f"{path.stem}::<file>"))
            continue
        for case in cases:
            params.append(pytest.param(path, doc["keys"], case, None, id=f"{path.stem}::{case.get('id')}"))
    return params


def subset_mismatch(expected: Any, actual: Any, at: str) -> Optional[str]:
    """Where `actual` differs from the subset `expected` (None when it matches).
    Objects: every expected key (a missing key counts as null); arrays: element
    by element and of equal length; anything else: equality (true is not 1)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{at}: expected an object, got {actual!r}"
        for k, v in expected.items():
            why = subset_mismatch(v, actual.get(k), f"{at}.{k}")
            if why:
                return why
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{at}: expected {expected!r}, got {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            why = subset_mismatch(e, a, f"{at}[{i}]")
            if why:
                return why
        return None
    if isinstance(expected, bool) or isinstance(actual, bool):
        ok = isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    else:
        ok = expected == actual
    return None if ok else f"{at}: expected {expected!r}, got {actual!r}"


def run_case(keys: Any, case: Any) -> Tuple[bool, str]:
    try:
        gate = mfagate.Gate(case["policy"], keys)
    except mfagate.MfagateError as e:
        if "expect_error" not in case:
            return False, f"the gate did not build: {e}"
        why = subset_mismatch(case["expect_error"], {"code": e.code, "message": e.message}, "error")
        return why is None, why or ""
    if "expect_error" in case:
        return False, "the gate built, but an error was expected"
    if "expect" not in case:
        return False, "the case has neither expect nor expect_error"
    try:
        decision = gate.evaluate_request(case["request"])
    except Exception as e:  # a request the binding cannot pass on is a failed case, counted as one
        return False, f"evaluate raised {e!r}"
    why = subset_mismatch(case["expect"], decision.to_dict(), "decision")
    return why is None, why or ""


@pytest.mark.parametrize("path,keys,case,load_error", _cases())
def test_vector(path: Path, keys: Any, case: Any, load_error: Optional[str]) -> None:
    if load_error is not None:
        VECTOR_RESULTS.append(False)
        pytest.fail(f"{path}: {load_error}")
    ok, why = run_case(keys, case)
    VECTOR_RESULTS.append(ok)
    assert ok, f"{path.name} {case['id']}: {why}"


def test_there_are_vectors() -> None:
    assert _files(), f"no vector files in {VECTOR_DIRS}"


def test_a_request_the_binding_rejects_is_a_failed_case() -> None:
    # Counted in "N passed, M failed", not an error outside the count.
    ok, why = run_case({"keys": []}, {"policy": "partner-center", "expect": {"outcome": "deny"},
                                      "request": {"path": "/v1/x", "now": 1, "no_such_key": True}})
    assert not ok and "no_such_key" in why


def test_runner_detects_mismatches() -> None:
    # tests/matcher/cases.json: the pairs every runtime's matcher must reject
    # and accept (the Rust and JavaScript runners read the same file).
    f = json.loads((REPO / "tests" / "matcher" / "cases.json").read_text(encoding="utf-8"))
    assert f["format"] == "mfagate-matcher/1" and len(f["differs"]) >= 10
    for e, a in f["differs"]:
        assert subset_mismatch(e, a, "d"), f"accepted {a!r} for {e!r}"
    for e, a in f["same"]:
        assert subset_mismatch(e, a, "d") is None, f"rejected {a!r} for {e!r}"


def _request_checks() -> List[Any]:
    doc = json.loads((REPO / "tests" / "requests" / "checks.json").read_text(encoding="utf-8"))
    assert doc["format"] == "mfagate-request-checks/1"
    return [pytest.param(c, id=c["id"]) for c in doc["cases"]]


@pytest.mark.parametrize("check", _request_checks())
def test_request_checks(check: Any) -> None:
    """tests/requests/checks.json: the core's one request constructor refuses
    the same requests with the same messages as in every other runtime."""
    gate = mfagate.Gate("partner-center", {"keys": []})
    if check["error"] is None:
        gate.evaluate_request(check["request"])
        return
    with pytest.raises(mfagate.UsageError) as e:
        gate.evaluate_request(check["request"])
    assert e.value.code == "request_invalid"
    assert check["error"] in e.value.message, e.value.message
    if check.get("hint"):
        assert check["hint"] in e.value.hint, e.value.hint
