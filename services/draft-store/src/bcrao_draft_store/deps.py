"""Request dependencies: the runtime, one transaction per request, the service credential.

Every dependency is `async def`: FastAPI runs a plain `def` dependency on a worker thread, a
thread hop per request that cost a fifth of draft-store's CPU under load (py-spy, issue 8).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .config import Settings
from .db import unit_of_work
from .domain import Clock
from .errors import AuthInvalid, AuthRequired
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


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's only transaction: committed when the route returns, before the response."""
    async with unit_of_work(runtime.sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


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
