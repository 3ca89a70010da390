"""Baseline: a bare Starlette SSE endpoint, one asyncio.Queue per client, fed in-process.

The same frames as the gateway (encoded once per event), so the comparison is about the fan-out
and the per-connection machinery, not about JSON encoding.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from bcrao_contracts.sse import ChunkMessage, encode, encode_retry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import content, rss_bytes

END = b'id: 0\ndata: {"type":"error","code":"GENERATION_FAILED","message":"end"}\n\n'
queues: set[asyncio.Queue[bytes | None]] = set()
seq = 0


async def stream(request: Request) -> StreamingResponse:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    queues.add(queue)

    async def frames() -> AsyncIterator[bytes]:
        try:
            yield encode_retry(3000)
            while (frame := await queue.get()) is not None:
                yield frame
        finally:
            queues.discard(queue)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)


async def publish(request: Request) -> JSONResponse:
    global seq
    count = int(request.query_params.get("count", "1"))
    interval = float(request.query_params.get("interval_ms", "0")) / 1000
    phase = request.query_params.get("phase", "L")
    for i in range(count):
        seq += 1
        frame = encode(seq, ChunkMessage(content=content(phase, i)))
        for queue in queues:
            queue.put_nowait(frame)
        if interval:
            await asyncio.sleep(interval)
        elif i % 10 == 9:
            await asyncio.sleep(0)  # let the streams drain, like a broker-fed loop would
    return JSONResponse({"published": count, "streams": len(queues)})


async def finish(request: Request) -> JSONResponse:
    for queue in queues:
        queue.put_nowait(END)
        queue.put_nowait(None)
    return JSONResponse({"closed": len(queues)})


async def stats(request: Request) -> JSONResponse:
    return JSONResponse({"rss": rss_bytes(), "streams": len(queues)})


app = Starlette(
    routes=[
        Route("/stream", stream),
        Route("/bench/publish", publish, methods=["POST"]),
        Route("/bench/finish", finish, methods=["POST"]),
        Route("/bench/stats", stats),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", backlog=8192)
