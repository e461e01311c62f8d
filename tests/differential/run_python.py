"""Replays vector files through the installed Python wheel with the Python
suite's own runner (bindings-python/tests/test_vectors.py: run_case), and
prints a FAIL line per difference and "N passed, M failed".

    python run_python.py DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "bindings-python" / "tests"))

from test_vectors import run_case  # noqa: E402  (the suite's runner, not a copy)


def main(directory: str) -> int:
    passed, failed = 0, 0
    files = sorted(p for p in Path(directory).glob("*.json") if p.name != "index.json")
    if not files:
        print(f"FAIL: no vector files in {directory}")
        return 1
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            ok, why = run_case(doc["keys"], case)
            if ok:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {path.name}#{case['id']}: {why}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
