"""Campaigns, community profiles and blacklist entries: validated here, stored by draft-store."""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any
from uuid import UUID

from bcrao_contracts.analysis import ProfileProposal
from bcrao_contracts.api import (
    BlacklistEntryCreate,
    BlacklistEntryOut,
    BlacklistEntryUpdate,
    BlacklistList,
    Campaign,
    CampaignCreate,
    CampaignList,
    CampaignUpdate,
    PatternMatch,
    PatternPreview,
    PatternPreviewRequest,
    Profile,
    ProfileIn,
    ProfileList,
)
from bcrao_contracts.base import unstorable_text
from bcrao_contracts.enums import BlacklistKind, BlacklistSource, ErrorCode
from bcrao_rules.blacklist import PatternError, compile_pattern
from fastapi import APIRouter, Body, Depends, Query, Response, status

from bcrao_gateway.deps import ChangesDep, CurrentUser, IfMatch, StoreDep
from bcrao_gateway.errors import ApiError
from bcrao_gateway.openapi import COMMON, errors
from bcrao_gateway.params import path_subreddit, pattern_checked
from bcrao_gateway.routes_changes import announce, with_etag

router = APIRouter(prefix="/v1", tags=["campaigns"], responses=errors(*COMMON, 404))
VERSIONED = errors(412)
Subreddit = Annotated[str, Depends(path_subreddit)]


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, response_model=Campaign)
async def create_campaign(
    body: CampaignCreate,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    response: Response,
) -> Campaign:
    campaign = await store.create_campaign(user, body)
    with_etag(response, campaign.version)
    announce(changes, user, "campaign", "created", campaign.id, version=campaign.version)
    return campaign


@router.get("/campaigns", response_model=CampaignList)
async def list_campaigns(
    user: CurrentUser,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CampaignList:
    return await store.list_campaigns(user, limit, offset)


@router.get("/campaigns/{campaign_id}", response_model=Campaign)
async def get_campaign(
    campaign_id: UUID, user: CurrentUser, store: StoreDep, response: Response
) -> Campaign:
    """The `ETag` header (and `version`) is what a later change sends back as `If-Match`."""
    campaign = await store.get_campaign(user, campaign_id)
    with_etag(response, campaign.version)
    return campaign


@router.patch("/campaigns/{campaign_id}", response_model=Campaign, responses=VERSIONED)
async def update_campaign(
    campaign_id: UUID,
    body: CampaignUpdate,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    response: Response,
    if_match: IfMatch = None,
) -> Campaign:
    """With `If-Match`, applies only while the campaign still has that version (412 with
    `details.current` otherwise); without it, applies to whatever is current."""
    campaign = await store.update_campaign(user, campaign_id, body, if_match)
    with_etag(response, campaign.version)
    announce(changes, user, "campaign", "changed", campaign.id, version=campaign.version)
    return campaign


@router.delete(
    "/campaigns/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT, responses=VERSIONED
)
async def delete_campaign(
    campaign_id: UUID,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    if_match: IfMatch = None,
) -> Response:
    await store.delete_campaign(user, campaign_id, if_match)
    announce(changes, user, "campaign", "deleted", campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/campaigns/{campaign_id}/profiles/{subreddit}",
    response_model=Profile,
    responses={
        200: {"description": "replaced"},
        201: {"model": Profile, "description": "created"},
        **VERSIONED,
    },
)
async def put_profile(
    campaign_id: UUID,
    subreddit: Subreddit,
    body: ProfileIn,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    response: Response,
    if_match: IfMatch = None,
) -> Profile:
    """201 when the profile is new, 200 when it replaced the previous one. With `If-Match`,
    replaces only the version named (412 otherwise, also when there is no profile yet)."""
    profile, created = await store.put_profile(user, campaign_id, subreddit, body, if_match)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    with_etag(response, profile.version)
    announce(
        changes,
        user,
        "profile",
        "created" if created else "changed",
        profile.subreddit,
        campaign_id=campaign_id,
        version=profile.version,
    )
    return profile


@router.get("/campaigns/{campaign_id}/profiles", response_model=ProfileList)
async def list_profiles(campaign_id: UUID, user: CurrentUser, store: StoreDep) -> ProfileList:
    return await store.list_profiles(user, campaign_id)


@router.get("/campaigns/{campaign_id}/profiles/{subreddit}", response_model=Profile)
async def get_profile(
    campaign_id: UUID, subreddit: Subreddit, user: CurrentUser, store: StoreDep, response: Response
) -> Profile:
    profile = await store.get_profile(user, campaign_id, subreddit)
    with_etag(response, profile.version)
    return profile


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
            description='{"text": "<posts as copied: blocks separated by --- or blank lines, '
            'first line the title>"}, {"posts": [{"title", "body", "score", "num_comments"}]}, '
            "or the JSON of a subreddit listing (data.children[].data with title, selftext, "
            "score, num_comments, url); fewer than 10 posts give a low-confidence estimate"
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
    response_model=BlacklistEntryOut,
)
async def create_blacklist_entry(
    campaign_id: UUID,
    body: BlacklistEntryCreate,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
) -> BlacklistEntryOut:
    """Entries made through the public API are the user's own, whatever `source` says."""
    pattern_checked(body.kind, body.pattern)
    own = body.model_copy(update={"source": BlacklistSource.USER})
    entry = await store.create_blacklist_entry(user, campaign_id, own)
    announce(
        changes,
        user,
        "blacklist",
        "created",
        entry.id,
        campaign_id=campaign_id,
        version=entry.version,
    )
    return entry


MAX_PREVIEW_MATCHES = 200


@router.post("/blacklist/preview", response_model=PatternPreview)
async def preview_pattern(body: PatternPreviewRequest, _: CurrentUser) -> PatternPreview:
    """Where a pattern matches the sample text, run by the same engine and rules that check drafts
    (RE2; literals ignore case and match whole words, regexes match case as written unless they
    start with `(?i)`); a pattern the engine cannot run says why. Nothing is saved."""
    case_sensitive = body.kind is BlacklistKind.REGEX and not body.pattern.startswith("(?i)")
    try:
        compiled = compile_pattern(body.kind, body.pattern)
    except PatternError as exc:
        return PatternPreview(problem=str(exc), case_sensitive=case_sensitive)
    matches = [
        PatternMatch(start=start, end=end, text=body.text[start:end])
        for start, end in islice(compiled.finditer(body.text), MAX_PREVIEW_MATCHES)
    ]
    return PatternPreview(matches=matches, case_sensitive=case_sensitive)


@router.patch("/blacklist/{entry_id}", response_model=BlacklistEntryOut, responses=VERSIONED)
async def update_blacklist_entry(
    entry_id: UUID,
    body: BlacklistEntryUpdate,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    response: Response,
    if_match: IfMatch = None,
) -> BlacklistEntryOut:
    """Change one of your own entries: only the fields sent change (`subreddit` null makes it
    campaign-wide). The pattern is checked like a new entry's, with the kind it will have (422
    naming `pattern`). With `If-Match`, applies only to the version named (412 with the entry as
    it is now); built-in entries, and other users', are 404."""
    if body.pattern is not None and body.kind is not None:
        pattern_checked(body.kind, body.pattern)
    entry = await store.update_blacklist_entry(user, entry_id, body, if_match)
    with_etag(response, entry.version)
    announce(
        changes,
        user,
        "blacklist",
        "changed",
        entry.id,
        campaign_id=entry.campaign_id,
        version=entry.version,
    )
    return entry


@router.delete("/blacklist/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses=VERSIONED)
async def delete_blacklist_entry(
    entry_id: UUID,
    user: CurrentUser,
    store: StoreDep,
    changes: ChangesDep,
    if_match: IfMatch = None,
) -> Response:
    """With `If-Match`, deletes only the version named (412 with the entry as it is now)."""
    await store.delete_blacklist_entry(user, entry_id, if_match)
    announce(changes, user, "blacklist", "deleted", entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
