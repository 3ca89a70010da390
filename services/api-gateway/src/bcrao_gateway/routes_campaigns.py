"""Campaigns, community profiles and blacklist entries: validated here, stored by draft-store."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from bcrao_contracts.analysis import ProfileProposal
from bcrao_contracts.api import (
    BlacklistEntryCreate,
    BlacklistList,
    Campaign,
    CampaignCreate,
    CampaignList,
    CampaignUpdate,
    Profile,
    ProfileIn,
    ProfileList,
)
from bcrao_contracts.base import unstorable_text
from bcrao_contracts.enums import BlacklistSource, ErrorCode
from bcrao_contracts.models import BlacklistEntry
from fastapi import APIRouter, Body, Depends, Query, Response, status

from bcrao_gateway.deps import CurrentUser, StoreDep
from bcrao_gateway.errors import ApiError
from bcrao_gateway.openapi import COMMON, errors
from bcrao_gateway.params import path_subreddit, pattern_checked

router = APIRouter(prefix="/v1", tags=["campaigns"], responses=errors(*COMMON, 404))
Subreddit = Annotated[str, Depends(path_subreddit)]


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, response_model=Campaign)
async def create_campaign(body: CampaignCreate, user: CurrentUser, store: StoreDep) -> Campaign:
    return await store.create_campaign(user, body)


@router.get("/campaigns", response_model=CampaignList)
async def list_campaigns(
    user: CurrentUser,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CampaignList:
    return await store.list_campaigns(user, limit, offset)


@router.get("/campaigns/{campaign_id}", response_model=Campaign)
async def get_campaign(campaign_id: UUID, user: CurrentUser, store: StoreDep) -> Campaign:
    return await store.get_campaign(user, campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=Campaign)
async def update_campaign(
    campaign_id: UUID, body: CampaignUpdate, user: CurrentUser, store: StoreDep
) -> Campaign:
    return await store.update_campaign(user, campaign_id, body)


@router.delete("/campaigns/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_campaign(campaign_id: UUID, user: CurrentUser, store: StoreDep) -> Response:
    await store.delete_campaign(user, campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/campaigns/{campaign_id}/profiles/{subreddit}",
    response_model=Profile,
    responses={200: {"description": "replaced"}, 201: {"model": Profile, "description": "created"}},
)
async def put_profile(
    campaign_id: UUID,
    subreddit: Subreddit,
    body: ProfileIn,
    user: CurrentUser,
    store: StoreDep,
    response: Response,
) -> Profile:
    """201 when the profile is new, 200 when it replaced the previous one."""
    profile, created = await store.put_profile(user, campaign_id, subreddit, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return profile


@router.get("/campaigns/{campaign_id}/profiles", response_model=ProfileList)
async def list_profiles(campaign_id: UUID, user: CurrentUser, store: StoreDep) -> ProfileList:
    return await store.list_profiles(user, campaign_id)


@router.get("/campaigns/{campaign_id}/profiles/{subreddit}", response_model=Profile)
async def get_profile(
    campaign_id: UUID, subreddit: Subreddit, user: CurrentUser, store: StoreDep
) -> Profile:
    return await store.get_profile(user, campaign_id, subreddit)


@router.post(
    "/campaigns/{campaign_id}/profiles/{subreddit}/analyze",
    response_model=ProfileProposal,
    tags=["profiles"],
)
async def analyze_profile(
    campaign_id: UUID,
    subreddit: Subreddit,
    payload: Annotated[
        dict[str, Any] | list[Any],
        Body(
            description='{"posts": [{"title", "body", "score", "num_comments"}]}, or the JSON of '
            "a subreddit listing (data.children[].data with title, selftext, score, "
            "num_comments, url); at least 10 posts"
        ),
    ],
    user: CurrentUser,
    store: StoreDep,
) -> ProfileProposal:
    """A profile proposed from the community's posts, with the ISC estimate explained; nothing is
    saved (send `profile` to the PUT above once it looks right)."""
    # draft-store validates the shape; text it could never read must not reach the relay.
    if problem := unstorable_text(payload):
        details = {"errors": [{"field": "body", "message": problem}]}
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, problem, details)
    return await store.analyze_profile(user, campaign_id, subreddit, payload)


@router.get("/campaigns/{campaign_id}/blacklist", response_model=BlacklistList)
async def list_blacklist(campaign_id: UUID, user: CurrentUser, store: StoreDep) -> BlacklistList:
    return await store.list_blacklist(user, campaign_id)


@router.post(
    "/campaigns/{campaign_id}/blacklist",
    status_code=status.HTTP_201_CREATED,
    response_model=BlacklistEntry,
)
async def create_blacklist_entry(
    campaign_id: UUID, body: BlacklistEntryCreate, user: CurrentUser, store: StoreDep
) -> BlacklistEntry:
    """Entries made through the public API are the user's own, whatever `source` says."""
    pattern_checked(body.kind, body.pattern)
    own = body.model_copy(update={"source": BlacklistSource.USER})
    return await store.create_blacklist_entry(user, campaign_id, own)


@router.delete("/blacklist/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_blacklist_entry(entry_id: UUID, user: CurrentUser, store: StoreDep) -> Response:
    await store.delete_blacklist_entry(user, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
