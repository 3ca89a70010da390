"""The task claim: ask draft-store whether a delivered GenerateRequested should still run.

`POST /internal/tasks/{task_id}/claim` moves the task queued → running. 200 means generate
(also for a task already running: a redelivery after a crash). 409 (the task is completed or
failed, e.g. released by the gateway or swept) and 404 (its campaign was deleted) mean skip:
no LLM call, no events.

While draft-store cannot be reached (or answers 5xx, e.g. its database is down) the claim waits
for an answer, retrying with capped exponential backoff, instead of generating unclaimed: an
unclaimed generation of a redelivered finished task, or of a task the gateway released, would
be a second LLM call or a draft the user was told was not queued. Only this task waits: each
record runs as its own asyncio task (consumer.py), so other records and partitions go on, and a
rebalance or a stop cancels the wait like any other in-flight work (the record is redelivered).
Nothing of this task could be stored while draft-store is away anyway.

A refusal (401/403 — a wrong or rotated service token — or 422 and any other 4xx, a contract
mismatch) fails closed the same way: the claim is asked again, with an error line naming the
status, and the task is never generated unclaimed (ADR 0006). Fixing the configuration, or
rolling back the release that broke it, lets the waiting claims through; a task that waits longer
than DRAFT_STORE_UNCLAIMED_TASK_SECONDS is swept and its unit given back.
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
    status: str  # running | completed | failed | missing | ended


class _Unavailable(Exception):
    """draft-store answered 5xx: as good as unreachable."""


class _Refused(Exception):
    """draft-store refused the claim itself (401/403/422, any other 4xx): our configuration or
    a contract mismatch. Waited out like an outage, never generated through."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _retried(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | _Unavailable | _Refused)


def _on_retry(exc: BaseException) -> None:
    if isinstance(exc, _Refused):
        log.error(
            "claim refused with %d: not generating unclaimed; check the generator's "
            "draft-store URL and token against draft-store's",
            exc.status,
        )


class TaskClaims:
    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        retry_base: float = 0.05,
        retry_cap: float = 5.0,
        timeout: float = 2.0,
        max_connections: int = 256,
        transport: httpx.AsyncBaseTransport | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._retry_base = retry_base
        self._retry_cap = retry_cap
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
        # Until draft-store answers: never forever in effect, since a task nobody claims is
        # swept (DRAFT_STORE_UNCLAIMED_TASK_SECONDS) and its claim then answers 409.
        async for attempt in retrying(
            None,
            self._retry_base,
            self._retry_cap,
            retry_if=_retried,
            on_retry=_on_retry,
            logger=log,
            what="claim not answered, draft-store awaited",
        ):
            with attempt:
                response = await self._client.post(
                    f"/internal/tasks/{request.task_id}/claim", json=body
                )
                if response.status_code >= 500:
                    raise _Unavailable(str(response.status_code))
                if response.status_code not in (200, 404, 409):
                    raise _Refused(response.status_code)
        if response.status_code == 200:
            return Claim(proceed=True, status="running")
        if response.status_code == 404:
            return Claim(proceed=False, status="missing")
        return Claim(proceed=False, status=_conflict_status(response))  # 409


def _conflict_status(response: httpx.Response) -> str:
    try:
        status = response.json()["error"]["details"]["status"]
    except (ValueError, KeyError, TypeError):
        return "ended"
    return str(status)
