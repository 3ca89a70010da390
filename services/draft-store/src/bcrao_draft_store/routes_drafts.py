"""Internal REST for drafts and generation tasks; the session dependency commits, routes do not."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from bcrao_contracts import api
from bcrao_contracts.enums import DraftStatus
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.models import Draft
from fastapi import APIRouter, Body, Query

from . import mapping, models, tasks
from . import repository as repo
from .deps import NowDep, RuntimeDep, SessionDep, UserId
from .domain import next_status
from .errors import InvalidInput, NotFound
from .routes import Limit, Offset, owned_campaign
from .schemas import TaskRelease

router = APIRouter(prefix="/internal/users/{user_id}")


def parse_statuses(values: list[str] | None) -> list[str]:
    """`status=a&status=b` and `status=a,b` both work; unknown names are a 422."""
    names = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    allowed = {status.value for status in DraftStatus}
    if unknown := sorted(set(names) - allowed):
        raise InvalidInput("unknown draft status", {"status": unknown, "allowed": sorted(allowed)})
    return list(dict.fromkeys(names))


async def owned_draft(
    session: SessionDep, user_id: str, draft_id: UUID, *, lock: bool = False
) -> models.Draft:
    draft = await repo.get_draft(session, user_id, draft_id, lock=lock)
    if draft is None:
        raise NotFound("draft not found")
    return draft


@router.get("/campaigns/{campaign_id}/drafts")
async def list_drafts(
    user_id: UserId,
    campaign_id: UUID,
    session: SessionDep,
    status: Annotated[list[str] | None, Query()] = None,
    subreddit: Annotated[str | None, Query(max_length=30)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> api.DraftList:
    campaign = await owned_campaign(session, user_id, campaign_id)
    name = subreddit.strip().removeprefix("/").removeprefix("r/") if subreddit else None
    rows, total = await repo.list_drafts(
        session,
        campaign.id,
        statuses=parse_statuses(status),
        subreddit=name or None,
        limit=limit,
        offset=offset,
    )
    return api.DraftList(drafts=[mapping.draft_out(r) for r in rows], total=total)


@router.get("/drafts/{draft_id}")
async def get_draft(user_id: UserId, draft_id: UUID, session: SessionDep) -> Draft:
    return mapping.draft_out(await owned_draft(session, user_id, draft_id))


@router.patch("/drafts/{draft_id}")
async def update_draft(
    user_id: UserId, draft_id: UUID, body: api.DraftPatch, session: SessionDep
) -> Draft:
    """Saving `user_edits` makes the draft `edited` (also from `approved`: changed text needs a
    new approval); a `status` in the same body applies after that. Illegal moves answer 409."""
    draft = await owned_draft(session, user_id, draft_id, lock=True)
    edits_saved = body.user_edits is not None
    status = next_status(DraftStatus(draft.status), requested=body.status, edits_saved=edits_saved)
    if edits_saved:
        draft.user_edits = body.user_edits
    if edits_saved or status.value != draft.status:
        draft.status = status.value
        await session.flush()
        await session.refresh(draft)
    return mapping.draft_out(draft)


@router.delete("/drafts/{draft_id}", status_code=204)
async def delete_draft(user_id: UserId, draft_id: UUID, session: SessionDep) -> None:
    await repo.delete_draft(session, await owned_draft(session, user_id, draft_id))


@router.post("/campaigns/{campaign_id}/tasks", status_code=201)
async def open_generation_task(
    user_id: UserId,
    campaign_id: UUID,
    body: api.GenerateRequest,
    session: SessionDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> GenerateRequested:
    event = await tasks.open_generation(session, user_id, campaign_id, body, now)
    runtime.metrics.tasks_opened += 1
    return event


@router.post("/drafts/{draft_id}/tasks", status_code=201)
async def open_regeneration_task(
    user_id: UserId,
    draft_id: UUID,
    session: SessionDep,
    now: NowDep,
    runtime: RuntimeDep,
    body: Annotated[api.RegenerateRequest | None, Body()] = None,
) -> GenerateRequested:
    request = body or api.RegenerateRequest()
    event = await tasks.open_regeneration(session, user_id, draft_id, request, now)
    runtime.metrics.tasks_opened += 1
    return event


@router.post("/tasks/{task_id}/release", status_code=204)
async def release_task(
    user_id: UserId, task_id: UUID, body: TaskRelease, session: SessionDep
) -> None:
    await tasks.release_task(session, user_id, task_id, code=body.code, message=body.message)


@router.get("/tasks/{task_id}")
async def get_task(user_id: UserId, task_id: UUID, session: SessionDep) -> api.TaskState:
    return await tasks.task_state(session, user_id, task_id)
