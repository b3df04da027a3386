#!/usr/bin/env python3
"""Start-up to ready and idle RSS of one server process (scripts/bench).

    footprint.py URL IDLE_SECONDS -- COMMAND [ARG...]

Starts COMMAND (its environment is this process's), polls URL (loopback) every millisecond
until it answers 200, then waits IDLE_SECONDS with no traffic and reads the process's VmRSS
from /proc. Prints `startup_ms=<ms> idle_rss_kib=<KiB>` and stops the process (SIGTERM, then
SIGKILL). Exit 1 if it is not ready within 30 s.
"""
import http.client
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit


def ready(host, port, path):
    try:
        conn = http.client.HTTPConnection(host, port, timeout=1)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status == 200
    except OSError:
        return False


def vm(pid, key):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def main():
    argv = sys.argv[1:]
    if len(argv) < 4 or argv[2] != "--":
        sys.exit(__doc__)
    url, idle, command = urlsplit(argv[0]), float(argv[1]), argv[3:]
    assert url.hostname in ("127.0.0.1", "localhost"), "loopback only"
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready(url.hostname, url.port, url.path or "/"):
            if proc.poll() is not None:
                sys.exit(f"{command[0]} exited with {proc.returncode} before it was ready")
            if time.monotonic() - started > 30:
                sys.exit(f"{command[0]} not ready after 30 s")
            time.sleep(0.001)
        startup_ms = (time.monotonic() - started) * 1000
        time.sleep(idle)
        print(f"startup_ms={startup_ms:.1f} idle_rss_kib={vm(proc.pid, 'VmRSS')}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
