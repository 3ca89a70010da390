"""The gateway's real stream route + TaskHub + start_streaming, fed by a local trigger (no Kafka).

Kafka is left out on purpose: the figure of interest is the fan-out from one ingested event to N
held streams; the reader adds one parse per event, independent of N. Auth is the real one (a
stream token per request), the store is a stub that says "queued".
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import uvicorn
from bcrao_contracts.api import TaskState
from bcrao_contracts.enums import ErrorCode, TaskStatus
from bcrao_contracts.events import GenerationFailed, ProgressUpdated
from bcrao_gateway.auth import sign_stream_token
from bcrao_gateway.config import Settings
from bcrao_gateway.errors import install_error_handlers
from bcrao_gateway.streaming import start_streaming
from bcrao_gateway.streaming.hub import TaskHub
from bcrao_gateway.streaming.routes import router
from fastapi import FastAPI, Request

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import content, rss_bytes

USER = "bench-user"
TASK = UUID("00000000-0000-4000-8000-000000000001")
CAMPAIGN = UUID("00000000-0000-4000-8000-000000000002")
SETTINGS = Settings(jwt_secret="b" * 40, draft_store_token="t" * 20, stream_token_ttl_seconds=3600)


class QueuedStore:
    async def get_task(self, user_id: str, task_id: UUID) -> TaskState | None:
        if user_id != USER or task_id != TASK:
            return None
        return TaskState(task_id=TASK, campaign_id=CAMPAIGN, user_id=USER, status=TaskStatus.QUEUED)


def stream_path() -> str:
    token = sign_stream_token(SETTINGS, USER, TASK)
    return f"/v1/campaigns/{CAMPAIGN}/drafts/generate/stream/{TASK}?token={token}"


def create_app() -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with start_streaming(app, SETTINGS, reader=False):
            yield

    app = FastAPI(lifespan=lifespan)
    app.state.settings = SETTINGS
    app.state.store = QueuedStore()
    app.state.seq = 0
    install_error_handlers(app)
    app.include_router(router)

    @app.post("/bench/publish")
    async def publish(request: Request, count: int = 1, interval_ms: float = 0, phase: str = "L"):
        import asyncio

        hub: TaskHub = request.app.state.hub
        for i in range(count):
            app.state.seq += 1
            hub.ingest(
                ProgressUpdated(
                    task_id=TASK,
                    producer="bench",
                    seq=app.state.seq,
                    kind="chunk",
                    content=content(phase, i),
                )
            )
            if interval_ms:
                await asyncio.sleep(interval_ms / 1000)
            elif i % 10 == 9:
                await asyncio.sleep(0)
        return {"published": count, "streams": hub.metrics()["open_streams"]}

    @app.post("/bench/finish")
    async def finish(request: Request):
        hub: TaskHub = request.app.state.hub
        app.state.seq += 1
        hub.ingest(
            GenerationFailed(
                task_id=TASK,
                producer="bench",
                seq=app.state.seq,
                user_id=USER,
                campaign_id=CAMPAIGN,
                code=ErrorCode.GENERATION_FAILED,
                message="end",
            )
        )
        return hub.metrics()

    @app.get("/bench/stats")
    async def stats(request: Request):
        return {"rss": rss_bytes(), **request.app.state.hub.metrics()}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--print-path", action="store_true")
    args = parser.parse_args()
    if args.print_path:
        print(stream_path())
        sys.exit(0)
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning", backlog=8192)
