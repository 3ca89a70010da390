"""The task claim: ask draft-store whether a delivered GenerateRequested should still run.

`POST /internal/tasks/{task_id}/claim` moves the task queued → running. 200 means generate
(also for a task already running: a redelivery after a crash). 409 (the task is completed or
failed, e.g. released by the gateway or swept) and 404 (its campaign was deleted) mean skip:
no LLM call, no events. When draft-store cannot be reached after a few quick retries the
generator proceeds anyway (fail-open): draft-store still stores at most one draft per task, so
the worst case is one wasted LLM call, never a lost task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

import httpx
from bcrao_contracts.events import GenerateRequested
from bcrao_platform.http import service_client
from bcrao_platform.retry import retrying
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    proceed: bool
    status: str  # running | completed | failed | missing | unclaimed (draft-store not reached)


class _Unavailable(Exception):
    """draft-store answered 5xx: as good as unreachable."""


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | _Unavailable)


class TaskClaims:
    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        attempts: int = 3,
        timeout: float = 2.0,
        max_connections: int = 256,
        transport: httpx.AsyncBaseTransport | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._attempts = attempts
        self._client = service_client(
            base_url,
            token.get_secret_value(),
            timeout=timeout,
            max_connections=max_connections,
            transport=transport,
        )
        if tracer_provider is not None:  # the claim's HTTP call joins the generation's trace
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor().instrument_client(
                self._client, tracer_provider=tracer_provider
            )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def claim(self, request: GenerateRequested, attempt_id: UUID) -> Claim:
        body = {"user_id": request.user_id, "attempt_id": str(attempt_id)}
        try:
            async for attempt in retrying(self._attempts, 0.05, 0.5, retry_if=_transient):
                with attempt:
                    response = await self._client.post(
                        f"/internal/tasks/{request.task_id}/claim", json=body
                    )
                    if response.status_code >= 500:
                        raise _Unavailable(str(response.status_code))
        except (httpx.TransportError, _Unavailable) as exc:
            log.warning("claim not reached (%s): generating unclaimed", type(exc).__name__)
            return Claim(proceed=True, status="unclaimed")
        if response.status_code == 200:
            return Claim(proceed=True, status="running")
        if response.status_code == 404:
            return Claim(proceed=False, status="missing")
        if response.status_code == 409:
            return Claim(proceed=False, status=_conflict_status(response))
        # 401/403/422: our configuration or a contract mismatch. Failing open keeps the task
        # moving; the log line says what to fix.
        log.error("claim refused with %d: generating unclaimed", response.status_code)
        return Claim(proceed=True, status="unclaimed")


def _conflict_status(response: httpx.Response) -> str:
    try:
        status = response.json()["error"]["details"]["status"]
    except (ValueError, KeyError, TypeError):
        return "ended"
    return str(status)
