"""Annotated dependencies: everything a route needs comes from app.state, set by create_app.

All of them are `async def`, although none awaits: FastAPI runs a plain `def` dependency in its
thread pool, and those thread hops were most of the accept path's own CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from bcrao_gateway.admission import GenerateLimits
from bcrao_gateway.auth import user_from_bearer
from bcrao_gateway.changes import ChangeFeed
from bcrao_gateway.config import Settings
from bcrao_gateway.errors import unavailable
from bcrao_gateway.metrics import Metrics
from bcrao_gateway.openapi import bearer_scheme
from bcrao_gateway.publisher import Publisher
from bcrao_gateway.store_client import DraftStoreClient

if TYPE_CHECKING:
    from bcrao_gateway.streaming.hub import TaskHub


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> DraftStoreClient:
    store: DraftStoreClient | None = getattr(request.app.state, "store", None)
    if store is None:
        raise unavailable("draft-store client is not ready")
    return store


async def get_publisher(request: Request) -> Publisher:
    publisher: Publisher | None = getattr(request.app.state, "publisher", None)
    if publisher is None:
        raise unavailable("event publisher is not ready")
    return publisher


async def get_limits(request: Request) -> GenerateLimits:
    limits: GenerateLimits = request.app.state.limits
    return limits


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_hub(request: Request) -> TaskHub | None:
    """The stream hub, once the streaming lifespan built it (None in an app run without it)."""
    hub: TaskHub | None = getattr(request.app.state, "hub", None)
    return hub


async def get_changes(request: Request) -> ChangeFeed:
    changes: ChangeFeed = request.app.state.changes
    return changes


SettingsDep = Annotated[Settings, Depends(get_settings)]
ChangesDep = Annotated[ChangeFeed, Depends(get_changes)]
# The version (ETag) a write applies to. Optional: without it the write applies to whatever is
# current (API clients written before versions keep working).
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description="the `version` (ETag) this change was made from; a stale one is a 412",
    ),
]
StoreDep = Annotated[DraftStoreClient, Depends(get_store)]
PublisherDep = Annotated[Publisher, Depends(get_publisher)]
LimitsDep = Annotated[GenerateLimits, Depends(get_limits)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
HubDep = Annotated["TaskHub | None", Depends(get_hub)]


async def current_user(
    request: Request,
    settings: SettingsDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> str:
    """The caller's user id from `Authorization: Bearer <jwt>`; 401 envelope otherwise."""
    user_id = user_from_bearer(request.headers.get("authorization"), settings)
    request.state.user_id = user_id  # for the access log
    return user_id


CurrentUser = Annotated[str, Depends(current_user)]
