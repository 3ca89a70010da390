"""Test doubles at the generator's edges: an LLM that waits to be released, a draft-store claim
endpoint served over real HTTP."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from uuid import UUID

from bcrao_generator.llm import LLMRequest, LLMResult, OfflineComposer, OnRestart, OnText
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class GatedLLM:
    """The LLM port: each call waits until `release` is set, then streams the offline text.

    `concurrent` is how many calls are waiting at once; `reached` fires when it hits `target`.
    """

    name = "gated-fake"

    def __init__(self, target: int = 1) -> None:
        self.calls: Counter[UUID] = Counter()
        self.concurrent = 0
        self.peak = 0
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self._target = target
        self._composer = OfflineComposer(chunk_delay_ms=0)

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        self.calls[call.request.task_id] += 1
        self.concurrent += 1
        self.peak = max(self.peak, self.concurrent)
        if self.concurrent >= self._target:
            self.reached.set()
        try:
            await self.release.wait()
        finally:
            self.concurrent -= 1
        return await self._composer.complete(call, on_text=on_text, on_restart=on_restart)


TOKEN = "claim-test-token"


def claim_app(
    statuses: dict[UUID, str], unavailable: set[UUID] | None = None, down_status: int = 503
) -> tuple[Starlette, list[dict[str, Any]]]:
    """draft-store's claim endpoint: a task's status decides the answer (absent → 404); a task
    in `unavailable` is answered `down_status`: 503 as while draft-store's database is down,
    401/403/422 as when it refuses the generator's token or body."""
    received: list[dict[str, Any]] = []
    down = unavailable if unavailable is not None else set()

    async def claim(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return _error(401, "AUTH_REQUIRED", {})
        task_id = UUID(request.path_params["task_id"])
        received.append({"task_id": task_id, **(await request.json())})
        if task_id in down:
            return _error(down_status, "UNAVAILABLE" if down_status >= 500 else "REFUSED", {})
        status = statuses.get(task_id)
        if status is None:
            return _error(404, "RESOURCE_NOT_FOUND", {})
        if status in ("completed", "failed"):
            return _error(409, "CONFLICT", {"status": status})
        statuses[task_id] = "running"
        return JSONResponse({"status": "running", "claimed": True})

    app = Starlette(routes=[Route("/internal/tasks/{task_id}/claim", claim, methods=["POST"])])
    return app, received


def _error(status: int, code: str, details: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": code.lower(), "details": details}}, status_code=status
    )
