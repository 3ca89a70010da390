"""GET /v1/campaigns/{campaign_id}/drafts/generate/stream/{task_id}: a task's progress as SSE."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from bcrao_contracts.api import TaskState
from bcrao_contracts.enums import ErrorCode, TaskStatus
from fastapi import APIRouter, Header, Query, Request, Security
from starlette.responses import Response

from bcrao_gateway.auth import user_from_bearer, verify_stream_token
from bcrao_gateway.errors import ApiError
from bcrao_gateway.openapi import bearer_scheme, errors

from .frames import final_frame
from .hub import TaskHub
from .response import OneShotResponse, RetryLaterResponse, StreamResponse
from .settings import StreamSettings

router = APIRouter()
STORE_DOWN_RETRY_MS = 5000


def _not_found() -> ApiError:
    return ApiError(404, ErrorCode.RESOURCE_NOT_FOUND, "task not found")


def _resume_point(header: str | None, query: str | None) -> int:
    raw = header if header is not None else query
    if raw is None or not raw.strip():
        return 0
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if value < 0:
        # Only this gateway sets ids, and they are task seqs: anything else is not a resume point.
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, "Last-Event-ID must be a message id")
    return value


@router.get(
    "/v1/campaigns/{campaign_id}/drafts/generate/stream/{task_id}",
    name="stream_generation",
    response_class=Response,
    dependencies=[Security(bearer_scheme)],
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "the task's messages"},
        204: {"description": "nothing left after Last-Event-ID"},
        **errors(401, 404, 422, 500),
    },
)
async def stream_generation(
    request: Request,
    campaign_id: UUID,
    task_id: UUID,
    token: Annotated[str | None, Query(max_length=8192)] = None,
    last_event_id_query: Annotated[
        str | None, Query(alias="last_event_id", max_length=20, pattern=r"^\d*$")
    ] = None,
    last_event_id: Annotated[str | None, Header(max_length=20, pattern=r"^\d*$")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Progress of a generation task: `status`/`chunk` messages, then `complete` or `error`.

    Authorised by the bearer token, or by the `token` of `stream_url` (EventSource cannot send
    headers). A client reconnecting with `Last-Event-ID` gets only what it missed; 204 when
    nothing is left to send for a finished task (EventSource stops reconnecting on 204).

    While draft-store is down and the answer needs it, the stream opens (200) with only a
    `retry:` hint and ends: EventSource reconnects after that delay and resumes, where a 503
    would make it give up for good.
    """
    try:
        return await _stream(
            request, campaign_id, task_id, token, last_event_id_query, last_event_id, authorization
        )
    except _StoreDown:
        stream: StreamSettings = request.app.state.settings.stream
        return RetryLaterResponse(max(stream.retry_ms, STORE_DOWN_RETRY_MS))


async def _stream(
    request: Request,
    campaign_id: UUID,
    task_id: UUID,
    token: str | None,
    last_event_id_query: str | None,
    last_event_id: str | None,
    authorization: str | None,
) -> Response:
    settings: Any = request.app.state.settings
    hub: TaskHub = request.app.state.hub
    stream: StreamSettings = settings.stream
    after = _resume_point(last_event_id, last_event_id_query)

    state: TaskState | None = None
    if token is not None:
        user = verify_stream_token(settings, token, task_id)  # bound to user and task
    else:
        user = user_from_bearer(authorization, settings)
        state = await _task_state(request, user, task_id)
        if state is None:
            raise _not_found()
    _check_campaign(campaign_id, state.campaign_id if state else hub.campaign_of(task_id))

    if not hub.knows(task_id) and not hub.ready:
        # A restarting gateway is still replaying the topics: give it a moment rather than answer
        # from draft-store's view of a task whose events are about to arrive.
        await hub.wait_ready(stream.catch_up_wait_seconds)

    if token is not None:
        # The token is ours and names this task, but its subject is still compared with the
        # task's owner: free when the hub knows it, else draft-store answers only the owner.
        owner = hub.owner_of(task_id)
        if owner is None:
            state = await _task_state(request, user, task_id)
            if state is None:
                raise _not_found()
            _check_campaign(campaign_id, state.campaign_id)
        elif owner != user:
            raise _not_found()

    create = False
    # Answered from draft-store: a task the hub cannot serve alone, and any task the caller's
    # lookup (bearer) shows before the hub has one of its events (it may have ended already).
    if not hub.knows(task_id) or (state is not None and not hub.has_events(task_id)):
        if state is None:
            state = await _task_state(request, user, task_id)
            if state is None:
                raise _not_found()
            _check_campaign(campaign_id, state.campaign_id)
        final = final_frame(state)
        if final is not None:
            seq, frame = final
            return OneShotResponse(stream, frame) if seq > after else Response(status_code=204)
        if state.status not in (TaskStatus.QUEUED, TaskStatus.RUNNING):
            raise _not_found()  # completed without a draft: nothing honest to stream
        create = True  # queued or running: its events are still to come; wait for them

    sub = hub.subscribe(task_id, after, create=create)
    assert sub is not None  # known, or created
    first = hub.take(sub)
    if not first and not sub.is_open and not hub.closing:
        hub.unsubscribe(sub)
        return Response(status_code=204)  # resumed after the terminal message: nothing left
    return StreamResponse(hub, sub, first, stream)


class _StoreDown(Exception):
    """draft-store did not answer a lookup the stream needs."""


async def _task_state(request: Request, user: str, task_id: UUID) -> TaskState | None:
    try:
        state: TaskState | None = await request.app.state.store.get_task(user, task_id)
    except ApiError as exc:
        if exc.status == 503:
            raise _StoreDown from None
        raise
    return state


def _check_campaign(in_path: UUID, actual: UUID | None) -> None:
    if actual is not None and actual != in_path:
        raise _not_found()
