#!/usr/bin/env python3
"""Under attack: while one source address holds slow connections and floods the webhook with bad
signatures, GitHub (another source address) keeps delivering signed pings; how long do they take,
and are any refused?

    attack.py HOST PORT SECRET BODY_FILE SECONDS SERVER_PID [SLOW [FLOODERS]]

- slow: SLOW connections (default 500) from 127.0.0.1 that send a request head a byte a second
  and never finish it (reopened when the server closes them);
- flood: FLOODERS (default 8) keep-alive connections from 127.0.0.1 posting the body with a
  wrong signature as fast as they can (reconnecting when the server closes them);
- GitHub: 4 workers from 127.0.0.2, each posting the body signed, with a new delivery id, on a
  new connection, one after the other (GitHub opens a connection per delivery).

Prints one line: `RESULT github=N refused=N p50_ms= p99_ms= max_ms= flood=N flood_statuses=...
slow_opened=N peak_rss_kib=N`. Loopback only; stops by itself after SECONDS.
"""

import asyncio
import hashlib
import hmac
import statistics
import sys
import time
import uuid

ATTACKER = "127.0.0.1"
GITHUB = "127.0.0.2"


def request(body: bytes, signature: str, keep_alive: bool) -> bytes:
    head = (
        "POST /webhook HTTP/1.1\r\nHost: bench\r\nX-GitHub-Event: ping\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\nX-Hub-Signature-256: {signature}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body


async def read_answer(reader: asyncio.StreamReader) -> int:
    """Reads one answer (head and Content-Length body); returns its status (0: closed)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def slow_connection(host, port, deadline, opened):
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(ATTACKER, 0))
        except OSError:
            await asyncio.sleep(0.5)
            continue
        opened[0] += 1
        try:
            writer.write(b"POST /webhook HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
            while time.monotonic() < deadline:
                await writer.drain()
                await asyncio.sleep(1)
                if reader.at_eof():
                    break
                writer.write(b"a")
        except (OSError, ConnectionError):
            pass
        finally:
            writer.close()
        await asyncio.sleep(0.2)


async def flooder(host, port, body, deadline, statuses):
    bad = "sha256=" + "0" * 64
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(ATTACKER, 0))
        except OSError:
            await asyncio.sleep(0.05)
            continue
        try:
            while time.monotonic() < deadline:
                writer.write(request(body, bad, keep_alive=True))
                await writer.drain()
                status = await read_answer(reader)
                statuses[status] = statuses.get(status, 0) + 1
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def github(host, port, body, signature, deadline, latencies, refused):
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(GITHUB, 0))
            writer.write(request(body, signature, keep_alive=False))
            await writer.drain()
            status = await asyncio.wait_for(read_answer(reader), 10)
            writer.close()
        except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            status = 0
        latencies.append((time.monotonic() - started) * 1000)
        if not 200 <= status < 300:
            refused.append(status)
        await asyncio.sleep(0.02)


def peak_rss_kib(pid: str) -> str:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return line.split()[1]
    return "-"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main():
    host, port, secret, body_file, seconds, pid = sys.argv[1:7]
    slow = int(sys.argv[7]) if len(sys.argv) > 7 else 500
    flooders = int(sys.argv[8]) if len(sys.argv) > 8 else 8
    port = int(port)
    body = open(body_file, "rb").read()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    deadline = time.monotonic() + float(seconds)
    opened, statuses, latencies, refused = [0], {}, [], []
    tasks = [slow_connection(host, port, deadline, opened) for _ in range(slow)]
    tasks += [flooder(host, port, body, deadline, statuses) for _ in range(flooders)]
    # GitHub starts once the attack is on.
    await asyncio.sleep(0)
    tasks += [github(host, port, body, signature, deadline, latencies, refused) for _ in range(4)]
    await asyncio.gather(*tasks)
    flood = sum(statuses.values())
    shown = ",".join(f"{status}:{count}" for status, count in sorted(statuses.items()))
    print(
        f"RESULT github={len(latencies)} refused={len(refused)} "
        f"p50_ms={statistics.median(latencies):.2f} p99_ms={percentile(latencies, 0.99):.2f} "
        f"max_ms={max(latencies):.2f} flood={flood} flood_statuses={shown or '-'} "
        f"slow_opened={opened[0]} peak_rss_kib={peak_rss_kib(pid)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
