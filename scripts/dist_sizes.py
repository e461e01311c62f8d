"""Sizes of the release artifacts in dist/, as the Markdown table of
docs/benchmarks.md ("Release artifacts").

    python3 scripts/dist_sizes.py [DIST]     (default: dist)

One row per file that would be published (its bytes: what a user downloads),
then one per compiled file inside it (the wheel's extension, the addon, the
.wasm module, the mfagate-serve binary): its bytes once installed and its
gzip -9 bytes, what a browser or a compressed download carries.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import tarfile
import zipfile
from typing import Iterator, Tuple

COMPILED = (".so", ".node", ".wasm", "/mfagate-serve")


def inner(path: str) -> Iterator[Tuple[str, bytes]]:
    """The compiled files inside an archive, with their bytes."""
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.endswith(COMPILED):
                    yield n, z.read(n)
    elif path.endswith((".tgz", ".tar.gz")):
        with tarfile.open(path) as t:
            for m in t.getmembers():
                if m.isfile() and m.name.endswith(COMPILED):
                    f = t.extractfile(m)
                    if f is not None:
                        yield m.name, f.read()


def gz(data: bytes) -> int:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as g:
        g.write(data)
    return len(buf.getvalue())


def main() -> int:
    dist = sys.argv[1] if len(sys.argv) > 1 else "dist"
    files = sorted(
        os.path.relpath(os.path.join(d, f), dist)
        for d, _, fs in os.walk(dist) for f in fs if f != "SHA256SUMS"
    )
    if not files:
        sys.exit(f"{dist} has no artifacts: run bash scripts/dist.sh first")
    print("| file | bytes | gzip -9 bytes |")
    print("|---|---:|---:|")
    for rel in files:
        path = os.path.join(dist, rel)
        # Archives are compressed already: no gzip column for them.
        print(f"| `{rel}` | {os.path.getsize(path):,} | |")
        for name, data in inner(path):
            print(f"| &nbsp;&nbsp;↳ `{name}` | {len(data):,} | {gz(data):,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
