"""Helpers of run.sh.

    python report.py canary DIR OUT   writes OUT/canary.json: two cases of DIR,
                                      one with a wrong expectation (diff-canary)
    python report.py smallest DIR LOG...
                                      prints the smallest case of DIR that a
                                      runtime's log reports as different
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def cases(directory: str):
    for path in sorted(Path(directory).glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            yield path.name, doc, case


def canary(directory: str, out: str) -> None:
    name, doc, first = next(cases(directory))
    wrong = json.loads(json.dumps(first))
    wrong["id"] = "diff-canary"
    wrong["expect"]["outcome"] = "allow" if first["expect"]["outcome"] != "allow" else "deny"
    doc = dict(doc, cases=[first, wrong])
    Path(out).mkdir(parents=True, exist_ok=True)
    Path(out, "canary.json").write_text(json.dumps(doc), encoding="utf-8")


def smallest(directory: str, logs: list) -> None:
    fails = {}
    for log in logs:
        runtime = Path(log).stem
        for line in Path(log).read_text(encoding="utf-8", errors="replace").splitlines():
            m = re.search(r"(diff-\d{5})", line)
            if m and "FAIL" in line:
                fails.setdefault(m.group(1), []).append(f"{runtime}: {line.strip()}")
    found = [(len(json.dumps(c)), n, c) for n, _, c in cases(directory) if c["id"] in fails]
    if not found:
        print("no differing case id found in the logs (see them above)")
        return
    size, name, case = min(found, key=lambda t: t[0])
    print(f"{len(found)} cases differ; the smallest ({size} bytes, {name}):")
    print(json.dumps(case, indent=2, ensure_ascii=False))
    for line in fails[case["id"]]:
        print(line)


if __name__ == "__main__":
    if sys.argv[1] == "canary":
        canary(sys.argv[2], sys.argv[3])
    else:
        smallest(sys.argv[2], sys.argv[3:])
