"""GET /v1/changes: the caller's change feed as Server-Sent Events (see changes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from bcrao_contracts.sse import PING, ChangeMessage, encode_retry
from bcrao_contracts.versioning import etag
from fastapi import APIRouter, Response
from starlette.responses import StreamingResponse

from bcrao_gateway.changes import ChangeFeed
from bcrao_gateway.deps import ChangesDep, CurrentUser, SettingsDep
from bcrao_gateway.openapi import errors
from bcrao_gateway.streaming.response import sse_headers

router = APIRouter(prefix="/v1", tags=["changes"])
RETRY_MS = 3000

Kind = Literal["draft", "campaign", "profile", "blacklist"]
Action = Literal["stored", "edited", "approved", "discarded", "changed", "created", "deleted"]


def announce(
    changes: ChangeFeed,
    user_id: str,
    kind: Kind,
    action: Action,
    resource_id: object,
    *,
    campaign_id: object | None = None,
    version: str | None = None,
    status: str | None = None,
) -> None:
    """Tell the user's open pages that one of their resources changed."""
    changes.publish(
        user_id,
        ChangeMessage(
            kind=kind,
            action=action,
            id=str(resource_id),
            campaign_id=str(campaign_id) if campaign_id is not None else None,
            version=version,
            status=status,
        ),
    )


def with_etag(response: Response, version: str | None) -> None:
    if version is not None:
        response.headers["ETag"] = etag(version)


@router.get(
    "/changes",
    response_class=Response,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "one `data:` line per change, a ChangeMessage (type `change`)",
        },
        **errors(401, 500),
    },
)
async def change_feed(
    user: CurrentUser, changes: ChangesDep, settings: SettingsDep
) -> StreamingResponse:
    """What changed in the caller's campaigns, profiles, blacklist entries and drafts while the
    page is open: edits, approvals and discards made in another tab, and drafts the pipeline
    stored. A message names the resource and its new version; the page reloads it. Sign in with
    the bearer header (read it with fetch; EventSource cannot send one). It ends after the
    streams' maximum lifetime; reconnect then (what changed meanwhile is not replayed: reload)."""

    async def frames() -> AsyncIterator[bytes]:
        yield encode_retry(RETRY_MS) + b": connected\n\n"
        stream = settings.stream
        follow = changes.follow(
            user, ping_seconds=stream.ping_seconds, lifetime=stream.max_lifetime_seconds
        )
        async for message in follow:
            if message is None:
                yield PING
            else:
                yield b"data: %s\n\n" % message.model_dump_json().encode()

    return StreamingResponse(frames(), media_type="text/event-stream", headers=sse_headers())
