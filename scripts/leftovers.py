"""Lists the processes a test run left running.

Usage: leftovers.py snapshot FILE   records the processes alive now
       leftovers.py check FILE      prints every process started since the
                                    snapshot that is still alive and is in
                                    this run's session or was orphaned
                                    (parent 1: a daemon, or a worker whose
                                    master was killed); exits 1 if any

The check waits up to 10 s for processes that are already exiting. A
process is known by its pid and start time, so a reused pid is new.
"""

import os
import sys
import time


def processes():
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces.
        rest = stat[stat.rfind(")") + 2 :].split()
        ppid, sid, start = int(rest[1]), int(rest[3]), rest[19]
        out[(int(name), start)] = (ppid, sid, cmd or stat[stat.find("(") : stat.rfind(")") + 1])
    return out


def ancestors(pid):
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            break
        pid = int(stat[stat.rfind(")") + 2 :].split()[1])
    return seen


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("snapshot", "check"):
        sys.exit(__doc__)
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "snapshot":
        with open(path, "w") as f:
            f.writelines(f"{pid} {start}\n" for pid, start in processes())
        return
    with open(path) as f:
        before = {(int(p), s) for p, s in (line.split() for line in f if line.strip())}
    mine = ancestors(os.getpid())
    sid = os.getsid(0)
    left = {}
    for _ in range(20):
        left = {
            k: v
            for k, v in processes().items()
            if k not in before
            and k[0] not in mine
            and v[0] != 2  # kernel threads
            and (v[1] == sid or v[0] == 1)
        }
        if not left:
            return
        time.sleep(0.5)
    print("processes this run started and left running:", file=sys.stderr)
    for (pid, _), (ppid, _, cmd) in sorted(left.items()):
        print(f"  pid {pid} (parent {ppid}): {cmd[:200]}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
