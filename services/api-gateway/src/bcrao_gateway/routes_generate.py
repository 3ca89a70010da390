"""Generate and regenerate: admit, open the task in draft-store, publish, and only then answer 202.

`stream_url` is a path relative to the gateway's public origin (the browser resolves it against the
page's own origin, which also holds behind a reverse proxy); its `token` query parameter is a
stream token bound to the caller and this task, valid `stream_token_ttl_seconds`.

An `Idempotency-Key` goes to draft-store as a header (ADR 0010). When it finds the task the key
opened before, the answer is that task again, with a fresh stream URL: its GenerateRequested is
published again only while the task is still queued (the first attempt may have died before
publishing), and the retry takes back the rate unit it was counted and holds no second in-flight
place. A retry the limits would refuse (429) asks draft-store for the key's task only, so a
client is never refused because of its own first attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from bcrao_contracts.api import (
    GenerateAccepted,
    GenerateRequest,
    InFlightTaskList,
    RegenerateRequest,
)
from bcrao_contracts.enums import ErrorCode
from bcrao_platform.logs import task_scope
from fastapi import APIRouter, Depends, status

from bcrao_gateway.admission import Slot
from bcrao_gateway.auth import sign_stream_token
from bcrao_gateway.deps import (
    CurrentUser,
    HubDep,
    LimitsDep,
    MetricsDep,
    PublisherDep,
    SettingsDep,
    StoreDep,
)
from bcrao_gateway.errors import ApiError, unavailable
from bcrao_gateway.openapi import COMMON, errors
from bcrao_gateway.params import idempotency_key
from bcrao_gateway.publisher import PublishError
from bcrao_gateway.store_client import OpenedTask

log = logging.getLogger("bcrao_gateway.generate")
router = APIRouter(
    prefix="/v1", tags=["generate"], responses=errors(*COMMON, 402, 403, 404, 409, 429)
)
PUBLISH_RETRY_AFTER = 10
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
# Opens the task (False), or only finds the one the request's Idempotency-Key opened (True).
OpenTask = Callable[[bool], Awaitable[OpenedTask]]


def stream_path(campaign_id: UUID, task_id: UUID, token: str) -> str:
    return f"/v1/campaigns/{campaign_id}/drafts/generate/stream/{task_id}?token={token}"


async def _accept(
    user: str,
    open_task: OpenTask,
    key: str | None,
    settings: SettingsDep,
    store: StoreDep,
    publisher: PublisherDep,
    limits: LimitsDep,
    metrics: MetricsDep,
    hub: HubDep,
) -> GenerateAccepted:
    slot: Slot | None = None
    try:
        if not publisher.ready:
            # Known before anything is reserved: no task is opened only to be released.
            raise unavailable(
                "the generation request cannot be queued right now; try again shortly",
                PUBLISH_RETRY_AFTER,
            )
        try:
            slot = await limits.admit(user, store)
        except ApiError as refused:
            if key is None or refused.status != 429:
                raise
            opened = await _replay_only(open_task, refused)
        else:
            try:
                opened = await open_task(False)
            except BaseException:
                slot.cancel()
                raise
        event = opened.event
        if slot is not None:
            if opened.replayed:
                limits.refund_rate(slot)  # a retry of a request counted once already
            if opened.live:
                slot.bind(event.task_id)  # the same task id: one in-flight place, not two
            else:
                slot.cancel()
        if event.user_id != user:
            limits.in_flight.finish(event.task_id)
            log.error("draft-store opened task %s for another user", event.task_id)
            raise ApiError(500, ErrorCode.INTERNAL_ERROR, "internal error")
        if opened.to_publish:
            with task_scope(event.task_id):  # every log line of the publish and release names it
                await _publish_or_release(opened, store, publisher, limits, metrics)
            if hub is not None:  # the stream opened next is served without asking draft-store
                hub.expect(event.task_id, event.campaign.id, event.user_id)
    except ApiError as exc:
        metrics.generate_refused.labels(exc.code.value).inc()
        if exc.status == 503 and slot is not None:
            limits.refund_rate(slot)  # our outage, not the user's request rate
        raise
    metrics.generate_accepted.inc()
    if opened.replayed:
        metrics.generate_replayed.inc()
    log.info(
        "generation replayed" if opened.replayed else "generation queued",
        extra={"task_id": str(event.task_id), "user": user},
    )
    token = sign_stream_token(settings, user, event.task_id)
    return GenerateAccepted(
        task_id=event.task_id, stream_url=stream_path(event.campaign.id, event.task_id, token)
    )


async def _replay_only(open_task: OpenTask, refused: ApiError) -> OpenedTask:
    """The task the request's key opened before, or the limits' refusal: a key draft-store has
    no task for (or a draft-store that keeps no keys, 404 too) is a new request, refused. Only a
    key used for another request (422) is said as such."""
    try:
        return await open_task(True)
    except ApiError as exc:
        if exc.status == 422:
            raise
        if exc.status != 404:
            log.warning("looking up a refused request's key failed: %s", exc.code.value)
        raise refused from None


async def _publish_or_release(
    opened: OpenedTask,
    store: StoreDep,
    publisher: PublisherDep,
    limits: LimitsDep,
    metrics: MetricsDep,
) -> None:
    """Publish, or release the task; returns normally when the task did go through.

    After a failed or unclear publish the task is released in draft-store (failed, unit given
    back). If draft-store answers 409 the generator already claimed or finished it: the publish did
    go through, and the client gets its 202. Otherwise the client gets 503 with Retry-After, and the
    released task is never generated later (the generator's claim is refused for a failed task).
    The event goes out as draft-store serialised it (`opened.payload`), never re-serialised.
    """
    event = opened.event
    try:
        await publisher.publish(event, payload=opened.payload)
        return
    except PublishError as exc:
        metrics.publish_failures.inc()
        log.warning("GenerateRequested not acknowledged: %s", exc)
    try:
        await store.release_task(
            event.user_id,
            event.task_id,
            code=ErrorCode.UNAVAILABLE.value,
            message="the generation request could not be queued",
        )
    except ApiError as release_error:
        if release_error.status == 409:
            log.info("an unacknowledged task was claimed by the generator after all")
            return
        # The task stays queued with its unit reserved; draft-store's sweep fails it (it is never
        # claimed), and the client is told to try again.
        log.error("releasing an unpublished task failed: %s", release_error.code.value)
    limits.in_flight.finish(event.task_id)
    raise unavailable(
        "the generation request could not be queued; try again shortly", PUBLISH_RETRY_AFTER
    )


@router.post(
    "/campaigns/{campaign_id}/drafts/generate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateAccepted,
)
async def generate_draft(
    campaign_id: UUID,
    body: GenerateRequest,
    user: CurrentUser,
    settings: SettingsDep,
    store: StoreDep,
    publisher: PublisherDep,
    limits: LimitsDep,
    metrics: MetricsDep,
    hub: HubDep,
    key: IdempotencyKey = None,
) -> GenerateAccepted:
    """With an `Idempotency-Key`, a retry answers the task the first attempt opened."""
    return await _accept(
        user,
        lambda replay_only: store.open_task(user, campaign_id, body, key, replay_only=replay_only),
        key,
        settings,
        store,
        publisher,
        limits,
        metrics,
        hub,
    )


@router.post(
    "/drafts/{draft_id}/regenerate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateAccepted,
)
async def regenerate_draft(
    draft_id: UUID,
    user: CurrentUser,
    settings: SettingsDep,
    store: StoreDep,
    publisher: PublisherDep,
    limits: LimitsDep,
    metrics: MetricsDep,
    hub: HubDep,
    body: RegenerateRequest | None = None,
    key: IdempotencyKey = None,
) -> GenerateAccepted:
    """An empty body is a regeneration without feedback. With an `Idempotency-Key`, a retry
    answers the task the first attempt opened."""
    request = body or RegenerateRequest()
    return await _accept(
        user,
        lambda replay_only: store.open_regeneration(
            user, draft_id, request, key, replay_only=replay_only
        ),
        key,
        settings,
        store,
        publisher,
        limits,
        metrics,
        hub,
    )


@router.get(
    "/campaigns/{campaign_id}/generations",
    response_model=InFlightTaskList,
    responses=errors(*COMMON, 404),
)
async def list_in_flight(
    campaign_id: UUID, user: CurrentUser, settings: SettingsDep, store: StoreDep
) -> InFlightTaskList:
    """The campaign's generations still queued or running (oldest first, at most 50), each with
    a fresh `stream_url`: a page that was reloaded re-attaches to every one of them and gets
    their messages from the beginning (or after `Last-Event-ID`)."""
    listed = await store.in_flight_tasks(user, campaign_id)
    tasks = [
        task.model_copy(
            update={
                "stream_url": stream_path(
                    task.campaign_id,
                    task.task_id,
                    sign_stream_token(settings, user, task.task_id),
                )
            }
        )
        for task in listed.tasks
    ]
    return InFlightTaskList(tasks=tasks)
