"""Reading and editing drafts, and the caller's usage; every call is scoped to the caller."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from bcrao_contracts.api import DraftList, DraftPatch, Usage
from bcrao_contracts.enums import DraftStatus
from bcrao_contracts.history import DraftHistory
from bcrao_contracts.models import Draft
from fastapi import APIRouter, Depends, Query, Response, status

from bcrao_gateway.deps import CurrentUser, StoreDep
from bcrao_gateway.openapi import COMMON, errors
from bcrao_gateway.params import query_statuses, query_subreddit

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
) -> DraftList:
    """Newest first; `status` may repeat or list several names separated by commas."""
    return await store.list_drafts(
        user, campaign_id, statuses=statuses, subreddit=subreddit, limit=limit, offset=offset
    )


@router.get("/drafts/{draft_id}", response_model=Draft)
async def get_draft(draft_id: UUID, user: CurrentUser, store: StoreDep) -> Draft:
    return await store.get_draft(user, draft_id)


@router.patch("/drafts/{draft_id}", response_model=Draft, responses=errors(409))
async def update_draft(
    draft_id: UUID, body: DraftPatch, user: CurrentUser, store: StoreDep
) -> Draft:
    """Edits set `edited`; illegal status transitions come back from draft-store as 409."""
    return await store.patch_draft(user, draft_id, body)


@router.get("/drafts/{draft_id}/history", response_model=DraftHistory)
async def get_draft_history(draft_id: UUID, user: CurrentUser, store: StoreDep) -> DraftHistory:
    """Status changes and saved edits, oldest first, with the generation and any regenerations;
    another user's draft is a 404 like every other resource."""
    return await store.get_draft_history(user, draft_id)


@router.delete("/drafts/{draft_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_draft(draft_id: UUID, user: CurrentUser, store: StoreDep) -> Response:
    await store.delete_draft(user, draft_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/usage", response_model=Usage, tags=["usage"])
async def get_usage(user: CurrentUser, store: StoreDep) -> Usage:
    return await store.get_usage(user)
