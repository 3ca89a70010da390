"""SSE client harness: N raw asyncio connections in one process, minimal state per connection.

Prints one JSON line when every connection got its response head ({"connected", "failed"}), then
one JSON line with the results once every stream ended (or the deadline passed). Message times
come from the `t=` publish timestamp inside each chunk, against this process's clock (same host).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import resource
import sys
import time
from array import array

FRAME_RE = re.compile(rb'"content":"p=(\w) i=\d+ t=([0-9.]+)"')
TERMINAL = b'"type":"error"'


class Results:
    def __init__(self) -> None:
        self.delays: dict[bytes, array] = {b"L": array("d"), b"B": array("d")}
        self.first_ts: dict[bytes, float] = {}
        self.last_arrival: dict[bytes, float] = {}
        self.headed = 0
        self.failed = 0
        self.ended = 0
        self.cut = 0  # streams that closed before their terminal message
        self.bad_status = 0
        self.done = asyncio.Event()
        self.expected = 0

    def finished_one(self) -> None:
        self.ended += 1
        if self.ended + self.failed >= self.expected:
            self.done.set()


class SSEClient(asyncio.Protocol):
    __slots__ = ("buf", "head", "request", "results", "terminal", "transport")

    def __init__(self, results: Results, request: bytes) -> None:
        self.results = results
        self.request = request
        self.buf = b""
        self.head = False
        self.terminal = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf + data
        if not self.head:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            self.head = True
            self.results.headed += 1
            if not buf.startswith(b"HTTP/1.1 200"):
                self.results.bad_status += 1
            buf = buf[end + 4 :]
        # Chunked transfer framing sits between SSE frames (one ASGI send = whole frames), so
        # scanning complete frames for their data is enough; no de-chunking needed.
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self.buf = buf
            return
        complete, self.buf = buf[: cut + 2], buf[cut + 2 :]
        r = self.results
        for phase, ts in FRAME_RE.findall(complete):
            t = float(ts)
            r.delays[phase].append(now - t)
            if t < r.first_ts.get(phase, 1e20):
                r.first_ts[phase] = t
            if now > r.last_arrival.get(phase, 0):
                r.last_arrival[phase] = now
        if TERMINAL in complete:
            self.terminal = True
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.terminal:
            self.results.cut += 1
        self.results.finished_one()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--deadline", type=float, default=150)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    loop = asyncio.get_running_loop()
    results = Results()
    results.expected = args.n
    request = (
        f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    gate = asyncio.Semaphore(args.concurrency)
    connect_errors: dict[str, int] = {}

    async def connect() -> None:
        async with gate:
            for attempt in range(3):
                try:
                    await loop.create_connection(
                        lambda: SSEClient(results, request), "127.0.0.1", args.port
                    )
                    return
                except OSError as exc:
                    if attempt == 2:
                        name = type(exc).__name__
                        connect_errors[name] = connect_errors.get(name, 0) + 1
                        results.failed += 1
                        if results.ended + results.failed >= results.expected:
                            results.done.set()
                    else:
                        await asyncio.sleep(0.2)

    started = time.time()
    await asyncio.gather(*(connect() for _ in range(args.n)))
    while results.headed + results.failed < args.n and time.time() - started < 60:
        await asyncio.sleep(0.05)
    print(
        json.dumps(
            {
                "connected": results.headed,
                "failed": results.failed,
                "bad_status": results.bad_status,
                "connect_seconds": round(time.time() - started, 2),
                "connect_errors": connect_errors,
            }
        ),
        flush=True,
    )

    with contextlib.suppress(TimeoutError):  # report what arrived; the missing count shows
        await asyncio.wait_for(results.done.wait(), args.deadline)
    out = {
        "ended": results.ended,
        "cut": results.cut,
        "failed": results.failed,
        "bad_status": results.bad_status,
        "phases": {},
    }
    for phase, delays in results.delays.items():
        if not delays:
            continue
        ordered = sorted(delays)
        span = results.last_arrival[phase] - results.first_ts[phase]
        out["phases"][phase.decode()] = {
            "deliveries": len(ordered),
            "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
            "span_s": round(span, 4),
            "deliveries_per_s": round(len(ordered) / span, 1) if span > 0 else None,
        }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - plain asyncio works, only slower
        pass
    asyncio.run(main())
    sys.exit(0)
