"""Reading and editing drafts, and the caller's usage; every call is scoped to the caller."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from bcrao_contracts.api import DraftList, DraftPatch, Usage
from bcrao_contracts.enums import Archetype, DraftStatus
from bcrao_contracts.history import DraftHistory
from bcrao_contracts.models import Draft
from fastapi import APIRouter, Depends, Query, Response, status

from bcrao_gateway.deps import ChangesDep, CurrentUser, IfMatch, LimitsDep, StoreDep
from bcrao_gateway.openapi import COMMON, errors
from bcrao_gateway.params import query_statuses, query_subreddit
from bcrao_gateway.routes_changes import Action, announce, with_etag

router = APIRouter(prefix="/v1", tags=["drafts"], responses=errors(*COMMON, 404))


@router.get("/campaigns/{campaign_id}/drafts", response_model=DraftList)
async def list_drafts(
    campaign_id: UUID,
    user: CurrentUser,
    store: StoreDep,
    statuses: Annotated[list[DraftStatus], Depends(query_statuses)],
    subreddit: Annotated[str | None, Depends(query_subreddit)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    q: Annotated[
        str | None, Query(max_length=200, description="words looked for in titles and text")
    ] = None,
    archetype: Archetype | None = None,
    needs_review: Annotated[
        bool | None, Query(description="only drafts that need review (true) or not (false)")
    ] = None,
    sort: Annotated[
        Literal["newest", "oldest", "score"],
        Query(description="newest first, oldest first, or best current overall score first"),
    ] = "newest",
) -> DraftList:
    """Newest first unless `sort` says otherwise; `status` may repeat or list several names
    separated by commas; `q` finds the words, as typed, in the generated or edited title or
    text (any case)."""
    return await store.list_drafts(
        user,
        campaign_id,
        statuses=statuses,
        subreddit=subreddit,
        limit=limit,
        offset=offset,
        search=q.strip() if q and q.strip() else None,
        archetype=archetype,
        needs_review=needs_review,
        sort=sort,
    )


@router.get("/drafts/{draft_id}", response_model=Draft)
async def get_draft(
    draft_id: UUID, user: CurrentUser, store: StoreDep, response: Response
) -> Draft:
    """The `ETag` header (and `version`) is what a later change sends back as `If-Match`."""
    draft = await store.get_draft(user, draft_id)
    with_etag(response, draft.version)
    return draft


_ACTIONS: dict[DraftStatus, Action] = {
    DraftStatus.APPROVED: "approved",
    DraftStatus.DISCARDED: "discarded",
}


@router.patch("/drafts/{draft_id}", response_model=Draft, responses=errors(409, 412))
async def update_draft(
    draft_id: UUID,
    body: DraftPatch,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    response: Response,
    if_match: IfMatch = None,
) -> Draft:
    """Edits set `edited`; illegal status transitions come back from draft-store as 409. With
    `If-Match`, applies only while the draft still has that version (412 with
    `details.current`, the draft as it is now); without it, applies to whatever is current."""
    draft = await store.patch_draft(user, draft_id, body, if_match)
    with_etag(response, draft.version)
    action = _ACTIONS.get(draft.status, "edited")
    announce(
        changes,
        user,
        "draft",
        action,
        draft.id,
        campaign_id=draft.campaign_id,
        version=draft.version,
        status=draft.status.value,
    )
    return draft


@router.get("/drafts/{draft_id}/history", response_model=DraftHistory)
async def get_draft_history(draft_id: UUID, user: CurrentUser, store: StoreDep) -> DraftHistory:
    """Status changes and saved edits, oldest first, with the generation and any regenerations;
    another user's draft is a 404 like every other resource."""
    return await store.get_draft_history(user, draft_id)


@router.delete("/drafts/{draft_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(412))
async def delete_draft(
    draft_id: UUID,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    if_match: IfMatch = None,
) -> Response:
    await store.delete_draft(user, draft_id, if_match)
    announce(changes, user, "draft", "deleted", draft_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/usage", response_model=Usage, tags=["usage"])
async def get_usage(user: CurrentUser, store: StoreDep, limits: LimitsDep) -> Usage:
    """The month's drafts and spend against the plan (with a warning from 80 %), and the
    per-minute generate limit with what is left of it now."""
    usage = await store.get_usage(user)
    return usage.model_copy(
        update={
            "generate_per_minute": limits.rate.limit,
            "generate_remaining_this_minute": limits.rate.remaining(user),
        }
    )
