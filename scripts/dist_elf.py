"""Checks a native artifact's ELF file, for scripts/dist.sh: its machine, the
libraries it needs and the newest glibc symbol version it uses.

    python scripts/dist_elf.py FILE --machine x86_64|aarch64 --libc glibc|musl [--max-glibc 2.17]

Prints one line (machine, NEEDED, newest GLIBC_ version) and exits 1 when a
check fails. Runs in scripts/dist.sh's tool venv (pyelftools comes with
auditwheel).
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Tuple

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

MACHINES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64"}
# What a Python extension, a Node addon or mfagate-serve may need from the
# system: the C library and its parts (musl's loader answers for all of them
# itself).
ALLOWED = {
    "glibc": {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "ld-linux-x86-64.so.2",
              "ld-linux-aarch64.so.1", "libgcc_s.so.1"},
    "musl": {"libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"},
}


def version_key(v: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in v.split(".") if p.isdigit())


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--machine", required=True, choices=sorted(set(MACHINES.values())))
    p.add_argument("--libc", required=True, choices=sorted(ALLOWED))
    p.add_argument("--max-glibc", default="2.17")
    a = p.parse_args()
    problems: List[str] = []
    with open(a.file, "rb") as f:
        elf = ELFFile(f)
        machine = MACHINES.get(elf["e_machine"], elf["e_machine"])
        needed: List[str] = []
        glibc: List[str] = []
        for s in elf.iter_sections():
            if isinstance(s, DynamicSection):
                needed += [t.needed for t in s.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
            if isinstance(s, GNUVerNeedSection):
                for _, aux in s.iter_versions():
                    glibc += [x.name[len("GLIBC_"):] for x in aux if x.name.startswith("GLIBC_")]
    newest = max(glibc, key=version_key) if glibc else "-"
    # A position-independent executable (mfagate-serve) is ET_DYN too.
    if elf["e_type"] != "ET_DYN":
        problems.append(f"not a shared library or PIE executable ({elf['e_type']})")
    if machine != a.machine:
        problems.append(f"machine {machine}, expected {a.machine}")
    extra = [n for n in needed if n not in ALLOWED[a.libc]]
    if extra:
        problems.append(f"needs {', '.join(extra)}, beyond the {a.libc} C library")
    if a.libc == "glibc" and glibc and version_key(newest) > version_key(a.max_glibc):
        problems.append(f"uses GLIBC_{newest} symbols, newer than glibc {a.max_glibc}")
    if a.libc == "musl" and glibc:
        problems.append("a musl artifact with glibc symbol versions")
    print(f"   {a.file.rsplit('/', 1)[-1]}: {machine}, needs [{', '.join(needed)}], newest GLIBC_ symbol {newest}"
          + ("" if not problems else "; FAILED: " + "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
