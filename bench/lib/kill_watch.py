#!/usr/bin/env python3
"""Kills an instance and watches its end, in a process of its own (issue 14's migration probe).

Started by reliability.py before the kill and idle until then, so neither the kill's timestamp nor the probes
wait for the bench client's own work. Usage: kill_watch.py PID PORT. On a line on stdin it sends SIGKILL to
PID and prints one JSON line {"at", "wall", "sent"} (monotonic and wall clock just before the kill, monotonic
just after); then it polls until PORT refuses connections (the process's sockets are closed: the kernel
closes them once every thread has exited) and follows the loopback connections to PORT in /proc/net/tcp:
when the first and the most were in CLOSE_WAIT (their peer's FIN received), when none was left (the
proxy read the end and closed them), counted above those already in CLOSE_WAIT before the kill ("baseline"), and each change of their count ("series": [monotonic, count]; idle pooled
connections stay in CLOSE_WAIT until the proxy's pool drops them). It prints a second JSON line with those monotonic times and exits.
"""
import json
import os
import signal
import socket
import sys
import time

HOST = "127.0.0.1"


def close_wait_count(port):
    """Loopback TCP sockets whose peer is `port` and that received the peer's FIN (CLOSE_WAIT, state 08), in
    /proc/net/tcp and /proc/net/tcp6 (.NET connects with dual-mode IPv6 sockets: ::ffff:127.0.0.1 is listed there)."""
    peer = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                count += sum(1 for fields in map(str.split, f) if fields[2].endswith(peer) and fields[3] == "08")
        except OSError:
            pass
    return count


class FinTracker:
    """Follows how many of the proxy's connections to the killed instance are in CLOSE_WAIT, recording into a
    dict when the first and the most had the peer's FIN (fin_first; fin_peak, fin_peak_count) and when the proxy
    had closed them all (fin_closed)."""

    def __init__(self, into):
        self.into, self.peak, self.seen = into, 0, False

    def update(self, count, now):
        """Records `count` connections in CLOSE_WAIT at `now`; True once all that had the FIN are closed."""
        if count and not self.seen:
            self.seen, self.into["fin_first"] = True, now
        if count > self.peak:
            self.peak, self.into["fin_peak"], self.into["fin_peak_count"] = count, now, count
        if self.seen and count == 0:
            self.into["fin_closed"] = now
            return True
        return False


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    sys.stdin.readline()
    # Connections to PORT already in CLOSE_WAIT before the kill (idle pooled ones the instance closed earlier)
    # are not the kill's: the FIN rows count from this baseline.
    baseline = close_wait_count(port)
    at, wall = time.monotonic(), time.time()
    os.kill(pid, signal.SIGKILL)
    sent = time.monotonic()
    print(json.dumps({"at": at, "wall": wall, "sent": sent}), flush=True)
    found = {"baseline": baseline}
    deadline = time.monotonic() + 10
    fins = FinTracker(found)
    while time.monotonic() < deadline:
        now = time.monotonic()
        if "gone" not in found:
            try:
                socket.create_connection((HOST, port), timeout=0.05).close()
            except ConnectionRefusedError:
                found["gone"] = time.monotonic()
            except OSError:
                pass
        count = max(0, close_wait_count(port) - baseline)
        if not found.get("series") or found["series"][-1][1] != count:
            found.setdefault("series", []).append((now, count))
        if fins.update(count, now) or (fins.seen and now - found["fin_first"] > 2):
            break
        time.sleep(0.001)
    print(json.dumps(found), flush=True)


if __name__ == "__main__":
    main()
