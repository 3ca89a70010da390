"""Request dependencies: the runtime, one transaction per request, the service credential.

Every dependency is `async def`: FastAPI runs a plain `def` dependency on a worker thread, a
thread hop per request that cost a fifth of draft-store's CPU under load (py-spy, issue 8).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from bcrao_platform.consumers import ConsumerSupervisor
from fastapi import Depends, Header, Path, Request
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .config import Settings
from .db import unit_of_work
from .domain import Clock
from .errors import AuthInvalid, AuthRequired, Unavailable
from .metrics import Metrics


@dataclass
class Runtime:
    """Everything the routes and handlers share, built once by `create_app`."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    metrics: Metrics
    clock: Clock
    consumers: ConsumerSupervisor


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's only transaction: committed when the route returns, before the response."""
    async with unit_of_work(runtime.sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

# PostgreSQL's SQLSTATEs for a statement cancelled by statement_timeout and a session ended by
# idle_in_transaction_session_timeout.
TIMED_OUT_STATES = {"57014", "25P03"}


async def get_open_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The transaction that opens a task (reserves a unit), bounded by
    DRAFT_STORE_OPEN_TASK_SECONDS, below the gateway's timeout (ADR 0009): a gateway that gave
    up and answered 503 must find no task and no held unit afterwards, whatever the database did.

    - every statement, and every wait for the next one inside the transaction, is bounded by
      the server (statement_timeout, idle_in_transaction_session_timeout): a database frozen
      mid-transaction cancels it when it wakes, instead of committing it late;
    - the deadline is checked again just before COMMIT, so a pool wait or a slow statement
      that used up the budget rolls back instead of committing after the gateway's 503.
    """
    seconds = runtime.settings.open_task_seconds
    deadline = time.monotonic() + seconds
    ms = int(seconds * 1000)
    try:
        async with unit_of_work(runtime.sessions) as session:
            await session.execute(text(f"SET LOCAL statement_timeout = {ms}"))
            await session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {ms}"))
            yield session
            if time.monotonic() >= deadline:
                raise Unavailable("the task could not be opened in time; try again shortly")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in TIMED_OUT_STATES:
            raise Unavailable("the task could not be opened in time; try again shortly") from None
        raise


OpenSessionDep = Annotated[AsyncSession, Depends(get_open_session, scope="function")]


async def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock()


NowDep = Annotated[datetime, Depends(get_now)]


async def require_service(request: Request, runtime: RuntimeDep) -> None:
    header = request.headers.get("authorization")
    if not header:
        raise AuthRequired("the service credential is missing")
    scheme, _, token = header.partition(" ")
    presented = token.strip().encode()
    settings = runtime.settings
    accepted = [settings.service_token, settings.service_token_previous]
    # Every accepted token is compared (no early exit), so timing does not tell which matched.
    matches = [
        hmac.compare_digest(presented, secret.get_secret_value().encode())
        for secret in accepted
        if secret is not None
    ]
    if scheme.lower() != "bearer" or not any(matches):
        raise AuthInvalid("the service credential is not valid")


UserId = Annotated[str, Path(min_length=1, max_length=200)]

# The version (ETag) a write applies to; none: the write applies to whatever is current.
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=1000)]

# The client's Idempotency-Key, as the gateway passes it on (unquoted): 1-255 visible ASCII
# characters other than `"` and `\` (ADR 0010).
IDEMPOTENCY_KEY_PATTERN = r"^[\x21\x23-\x5b\x5d-\x7e]{1,255}$"
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN),
]
