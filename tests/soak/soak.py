"""Leak and stability run of the Python wheel (issue 11): 10^6 decisions on
one thread, then 10^6 more shared by 8 threads, cycling through every
deciding case of api.json, tokens.json and dashboard-2026.json (verified
RS256/ES256/HS256 tokens, refusals, malformed tokens). Resident memory is read
from /proc before each phase and after each tenth of it (after a warm-up
that fills the allocator's pools); growth over the second half beyond
BOUND_KB fails (a leak grows with the count; allocators level off), and every decision is
checked against the case's expected outcome on the way, so a run that
decides wrongly under load fails too. Prints one JSON line per phase.

    python soak.py [EVALUATIONS]
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from pathlib import Path

import mfagate

REPO = Path(__file__).resolve().parents[2]
FILES = ["api.json", "tokens.json", "dashboard-2026.json"]
BOUND_KB = 4 * 1024


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def workload():
    work, gates = [], {}
    for name in FILES:
        doc = json.loads((REPO / "tests" / "vectors" / name).read_text(encoding="utf-8"))
        for case in doc["cases"]:
            if "expect" not in case or "outcome" not in case["expect"]:
                continue
            key = json.dumps(case["policy"], sort_keys=True) + name
            if key not in gates:
                gates[key] = mfagate.Gate(case["policy"], doc["keys"])
            work.append((gates[key], case["request"], case["expect"]["outcome"]))
    return work


def run(work, n: int, wrong: list) -> None:
    for i in range(n):
        gate, request, outcome = work[i % len(work)]
        d = gate.evaluate_request(request)
        if d.outcome != outcome and len(wrong) < 5:
            wrong.append((request.get("path"), d.outcome, outcome))


def phase(name: str, work, n: int, threads: int) -> dict:
    wrong: list = []
    gc.collect()
    before = rss_kb()
    start = time.perf_counter()
    tenths = []
    for _ in range(10):
        if threads == 1:
            run(work, n // 10, wrong)
        else:
            ts = [threading.Thread(target=run, args=(work, n // 10 // threads, wrong)) for _ in range(threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        gc.collect()
        tenths.append(rss_kb())
    seconds = time.perf_counter() - start
    after = tenths[9]
    return {"runtime": "python", "phase": name, "evaluations": n, "threads": threads, "seconds": round(seconds, 2),
            "rss_before_kb": before, "rss_half_kb": tenths[4], "rss_after_kb": after, "growth_kb": after - before,
            "second_half_growth_kb": after - tenths[4], "bound_kb": BOUND_KB, "rss_tenths_kb": tenths, "wrong": wrong}


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = workload()
    assert len(work) > 100, f"only {len(work)} cases"
    run(work, 20_000, [])  # warm-up
    bad = False
    for name, threads in (("one thread", 1), ("8 threads", 8)):
        r = phase(name, work, n, threads)
        print(json.dumps(r), flush=True)
        bad |= bool(r["wrong"]) or r["second_half_growth_kb"] > BOUND_KB
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
