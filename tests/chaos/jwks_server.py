"""The flapping JWKS endpoint of the chaos run (tests/chaos/run.sh).

A separate process (standard library only), so that its clock readings are
not delayed by the load generator. It follows a schedule of phases from a
start time given on a shared clock (time.monotonic(): CLOCK_MONOTONIC, one
clock for every process of the machine) and writes one JSON line per event
to the log: each phase as it begins, each GET with its arrival time, when
its answer was completed, what it answered and which keys it carried.

    python3 jwks_server.py PORT START SCHEDULE.json DOCS.json LOG.jsonl

Phases (SCHEDULE.json: [[mode, seconds, set-name or null], ...]):
  down      the listening socket is closed: connection refused
  good      200, the named JWK Set (the only answers a gate may take)
  slow      the named set (a poisoned one), sent after SLOW_DELAY seconds,
            longer than the client's timeout; every other answer sends its
            headers at once and drips the body over SLOW_DELAY seconds
  garbage   200, a body that is not JSON
  http500   500 whose body is the named (poisoned) set
  oversize  200, the named (poisoned) set padded past max_bytes (every
            other answer without Content-Length, read to the end)
  empty     200, {"keys": []} (no usable key: a failed fetch)
Every answer carries Connection: close, so no kept-alive connection outlives
a phase and "down" really is a refused connection.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_DELAY = 1.2


def main() -> None:
    port = int(sys.argv[1])
    start = float(sys.argv[2])
    schedule = json.load(open(sys.argv[3]))
    docs = json.load(open(sys.argv[4]))  # name -> {"doc": {...}, "keys": [[kid, owner], ...]}
    max_bytes = int(docs.pop("_max_bytes"))
    log = open(sys.argv[5], "a", buffering=1)
    lock = threading.Lock()
    state = {"mode": "down", "set": None, "n": 0, "phase": -1}

    def emit(rec: dict) -> None:
        with lock:
            log.write(json.dumps(rec) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            arrived = time.monotonic()
            with lock:
                mode, name, phase = state["mode"], state["set"], state["phase"]
                state["n"] += 1
                n = state["n"]
            status, body, length, keys = 200, b"", True, None
            if mode == "down":
                # accepted just before the listening socket closed: no answer
                self.close_connection = True
                emit({"ev": "late", "n": n, "phase": phase, "t_arr": arrived})
                return
            if mode == "garbage":
                body = b"<html><body>502 Bad Gateway (not JSON)</body></html>"
            elif mode == "empty":
                body, keys = b'{"keys": []}', []
            else:
                body = json.dumps(docs[name]["doc"]).encode()
                keys = docs[name]["keys"]
                if mode == "http500":
                    status = 500
                elif mode == "oversize":
                    pad = max_bytes * 3
                    doc = dict(docs[name]["doc"], padding="x" * pad)
                    body = json.dumps(doc).encode()
                    length = n % 2 == 0
                elif mode == "slow" and n % 2 == 0:
                    time.sleep(SLOW_DELAY)  # nothing until after the client's timeout
            if mode == "slow" and n % 2 == 1:
                # the status line and headers at once, then the body one
                # chunk at a time, the last after the client's timeout
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Connection", "close")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.flush()
                    step = max(1, len(body) // 8)
                    for i in range(0, len(body), step):
                        time.sleep(SLOW_DELAY / 8)
                        self.wfile.write(body[i:i + step])
                        self.wfile.flush()
                    ok = True
                except OSError:
                    ok = False
                self.close_connection = True
                emit({"ev": "get", "n": n, "phase": phase, "mode": "slow", "drip": True, "set": name, "keys": keys,
                      "status": status, "bytes": len(body), "t_arr": arrived, "t_done": time.monotonic(), "sent": ok})
                return
            # The gate may hold the set from here on: once the answer has
            # left, the gate can read and use it before this thread logs
            # t_done (seen with the release mfagate-serve at 15,000 rps).
            sending = time.monotonic()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                if length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                ok = True
            except OSError:
                ok = False  # the client went away (a timed-out fetch)
            self.close_connection = True
            emit({"ev": "get", "n": n, "phase": phase, "mode": mode, "set": name, "keys": keys,
                  "status": status, "bytes": len(body), "t_arr": arrived, "t_send": sending,
                  "t_done": time.monotonic(), "sent": ok})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = None
    thread = None

    def up() -> None:
        nonlocal server, thread
        for _ in range(200):  # the port may linger briefly after a close
            try:
                server = Server(("127.0.0.1", port), Handler)
                break
            except OSError:
                time.sleep(0.01)
        else:
            raise SystemExit(f"jwks_server: cannot listen on 127.0.0.1:{port}")
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()

    def down() -> None:
        nonlocal server, thread
        if server is not None:
            server.shutdown()
            server.server_close()  # the listening socket: closed, connections refused
            server = None
            thread = None

    t = start
    while time.monotonic() < start:
        time.sleep(0.005)
    for i, (mode, seconds, name) in enumerate(schedule):
        if mode == "down":
            down()  # first: no connection is accepted in a "down" phase
        with lock:
            state.update(mode=mode, set=name, phase=i)
        if mode != "down" and server is None:
            up()
        emit({"ev": "phase", "phase": i, "mode": mode, "set": name,
              "keys": docs[name]["keys"] if name else None, "t": time.monotonic(), "planned": t})
        t += seconds
        while time.monotonic() < t:
            time.sleep(0.005)
    down()
    emit({"ev": "end", "t": time.monotonic()})


if __name__ == "__main__":
    # Never let a refused connection look like "down" while we are up: check
    # the loopback interface works at all.
    socket.socket().close()
    main()
