"""``mfagate`` (the wheel's console script) and ``python -m mfagate``: the Rust
CLI itself, compiled into the extension, so every command, its output and
its exit statuses are those of the ``mfagate`` binary."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Optional, Sequence

from ._mfagate import _cli


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs ``mfagate`` on ``argv`` (default: ``sys.argv[1:]``) and returns its exit status."""
    # The name clap shows in help and usage, whatever launched us.
    args = ["mfagate", *(sys.argv[1:] if argv is None else argv)]
    # The native code writes to file descriptors 1 and 2 itself: what Python
    # holds in its buffers must come out first.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    if threading.current_thread() is not threading.main_thread():
        return _cli(args)
    # Python's SIGINT handler only sets a flag, which the native code never
    # looks at (`inspect` reading stdin would wait on): Ctrl-C ends the
    # command as it ends the Rust binary.
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        return _cli(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
