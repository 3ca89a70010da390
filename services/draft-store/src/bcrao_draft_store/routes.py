"""Internal REST for the gateway: campaigns, profiles, blacklist, usage (drafts and tasks live in
`routes_drafts.py`). Routes never commit; the session dependency commits once."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from bcrao_contracts import api
from bcrao_contracts.analysis import ProfileProposal
from bcrao_contracts.enums import BlacklistKind
from bcrao_contracts.models import normalize_subreddit
from bcrao_rules.analysis import AnalysisInputError, parse_posts, propose_profile
from bcrao_rules.blacklist import pattern_problem
from bcrao_rules.drafts import near_limit
from fastapi import APIRouter, Body, Query, Response

from . import mapping, models
from . import repository as repo
from .deps import IfMatch, NowDep, SessionDep, UserId
from .domain import PLAN_LIMITS
from .errors import InvalidInput, NotFound
from .generation_tasks import canonical_subreddit
from .preconditions import require_version
from .schemas import PlanChange

router = APIRouter(prefix="/internal/users/{user_id}")
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def _campaign_values(body: api.CampaignCreate | api.CampaignUpdate) -> dict[str, Any]:
    values = body.model_dump(mode="json", exclude_unset=True)  # the contract refuses nulls
    if values.get("target_subreddits"):
        values["target_subreddits"] = _unique(values["target_subreddits"])
    return values


async def owned_campaign(
    session: SessionDep, user_id: str, campaign_id: UUID, *, lock: bool = False
) -> models.Campaign:
    campaign = await repo.get_campaign(session, user_id, campaign_id, lock=lock)
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


def _subreddit(campaign: models.Campaign, raw: str) -> str:
    try:
        name = normalize_subreddit(raw)
    except ValueError as exc:
        raise InvalidInput(str(exc), {"subreddit": raw}) from None
    return canonical_subreddit(campaign, name) or name


def _target_subreddit(campaign: models.Campaign, raw: str) -> str:
    """Profiles and blacklist entries only exist for the campaign's own target subreddits."""
    name = _subreddit(campaign, raw)
    if canonical_subreddit(campaign, name) is None:
        message = f"r/{name} is not one of this campaign's target subreddits"
        raise InvalidInput(
            message,
            {
                "errors": [{"field": "subreddit", "message": message, "type": "not_a_target"}],
                "subreddit": name,
                "target_subreddits": list(campaign.target_subreddits),
            },
        )
    return name


@router.post("/campaigns", status_code=201)
async def create_campaign(
    user_id: UserId, body: api.CampaignCreate, session: SessionDep
) -> api.Campaign:
    row = await repo.create_campaign(session, user_id=user_id, **_campaign_values(body))
    return mapping.campaign_out(row)


@router.get("/campaigns")
async def list_campaigns(
    user_id: UserId, session: SessionDep, limit: Limit = 20, offset: Offset = 0
) -> api.CampaignList:
    rows, total = await repo.list_campaigns(session, user_id, limit=limit, offset=offset)
    return api.CampaignList(campaigns=[mapping.campaign_out(r) for r in rows], total=total)


@router.get("/campaigns/{campaign_id}")
async def get_campaign(user_id: UserId, campaign_id: UUID, session: SessionDep) -> api.Campaign:
    return mapping.campaign_out(await owned_campaign(session, user_id, campaign_id))


@router.patch("/campaigns/{campaign_id}")
async def update_campaign(
    user_id: UserId,
    campaign_id: UUID,
    body: api.CampaignUpdate,
    session: SessionDep,
    if_match: IfMatch = None,
) -> api.Campaign:
    campaign = await owned_campaign(session, user_id, campaign_id, lock=if_match is not None)
    if if_match is not None:
        require_version(if_match, mapping.campaign_out(campaign), "campaign")
    row = await repo.update_campaign(session, campaign, **_campaign_values(body))
    return mapping.campaign_out(row)


@router.delete("/campaigns/{campaign_id}", status_code=204)
async def delete_campaign(
    user_id: UserId, campaign_id: UUID, session: SessionDep, if_match: IfMatch = None
) -> None:
    campaign = await owned_campaign(session, user_id, campaign_id, lock=if_match is not None)
    if if_match is not None:
        require_version(if_match, mapping.campaign_out(campaign), "campaign")
    await repo.delete_campaign(session, campaign)


@router.put("/campaigns/{campaign_id}/profiles/{subreddit:path}")
async def put_profile(
    user_id: UserId,
    campaign_id: UUID,
    subreddit: str,
    body: api.ProfileIn,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> api.Profile:
    campaign = await owned_campaign(session, user_id, campaign_id)
    name = _target_subreddit(campaign, subreddit)
    existing = await repo.get_profile(session, campaign.id, name, lock=if_match is not None)
    current = mapping.profile_out(existing) if existing is not None else None
    require_version(if_match, current, "profile")
    if existing is not None:
        name = existing.subreddit
    row, created = await repo.upsert_profile(
        session, campaign.id, name, mapping.profile_columns(body)
    )
    response.status_code = 201 if created else 200
    return mapping.profile_out(row)


@router.post("/campaigns/{campaign_id}/profiles/{subreddit:path}/analyze")
async def analyze_profile(
    user_id: UserId,
    campaign_id: UUID,
    subreddit: str,
    payload: Annotated[Any, Body()],
    session: SessionDep,
) -> ProfileProposal:
    """A profile proposed from posts (pasted, or a Reddit listing); nothing is saved."""
    campaign = await owned_campaign(session, user_id, campaign_id)
    name = _target_subreddit(campaign, subreddit)
    try:
        posts = parse_posts(payload)
        return await asyncio.to_thread(propose_profile, posts, name)
    except AnalysisInputError as exc:
        raise InvalidInput(exc.message, exc.details) from None


@router.get("/campaigns/{campaign_id}/profiles")
async def list_profiles(user_id: UserId, campaign_id: UUID, session: SessionDep) -> api.ProfileList:
    campaign = await owned_campaign(session, user_id, campaign_id)
    rows = await repo.list_profiles(session, campaign.id)
    return api.ProfileList(profiles=[mapping.profile_out(r) for r in rows])


@router.get("/campaigns/{campaign_id}/profiles/{subreddit:path}")
async def get_profile(
    user_id: UserId, campaign_id: UUID, subreddit: str, session: SessionDep
) -> api.Profile:
    campaign = await owned_campaign(session, user_id, campaign_id)
    row = await repo.get_profile(session, campaign.id, _subreddit(campaign, subreddit))
    if row is None:
        raise NotFound("no profile for this subreddit")
    return mapping.profile_out(row)


@router.get("/campaigns/{campaign_id}/blacklist")
async def list_blacklist(
    user_id: UserId, campaign_id: UUID, session: SessionDep
) -> api.BlacklistList:
    campaign = await owned_campaign(session, user_id, campaign_id)
    rows = await repo.list_blacklist(session, campaign.id)
    return api.BlacklistList(entries=[mapping.blacklist_versioned(r) for r in rows])


def _check_pattern(kind: BlacklistKind, pattern: str) -> None:
    """A pattern the engine that runs it (RE2) accepts, else a 422 naming `pattern`."""
    if problem := pattern_problem(kind, pattern):
        raise InvalidInput(
            f"pattern: {problem}",
            {"errors": [{"field": "pattern", "message": problem, "type": "unsupported_pattern"}]},
        )


@router.post("/campaigns/{campaign_id}/blacklist", status_code=201)
async def create_blacklist_entry(
    user_id: UserId, campaign_id: UUID, body: api.BlacklistEntryCreate, session: SessionDep
) -> api.BlacklistEntryOut:
    campaign = await owned_campaign(session, user_id, campaign_id)
    _check_pattern(body.kind, body.pattern)
    values = body.model_dump(mode="json")
    if body.subreddit is not None:
        values["subreddit"] = _target_subreddit(campaign, body.subreddit)
    row = await repo.create_blacklist_entry(session, campaign_id=campaign.id, **values)
    return mapping.blacklist_versioned(row)


@router.patch("/blacklist/{entry_id}")
async def update_blacklist_entry(
    user_id: UserId,
    entry_id: UUID,
    body: api.BlacklistEntryUpdate,
    session: SessionDep,
    if_match: IfMatch = None,
) -> api.BlacklistEntryOut:
    """Only the fields sent change; the pattern is checked with the kind it will have. Global
    entries are nobody's (404, like another user's)."""
    entry = await repo.get_blacklist_entry(session, user_id, entry_id, lock=True)
    if entry is None:
        raise NotFound("blacklist entry not found")
    require_version(if_match, mapping.blacklist_versioned(entry), "blacklist entry")
    values = body.model_dump(mode="json", exclude_unset=True)
    if "kind" in values or "pattern" in values:
        kind = BlacklistKind(values.get("kind", entry.kind))
        _check_pattern(kind, values.get("pattern", entry.pattern))
    if values.get("subreddit") is not None:
        assert entry.campaign_id is not None  # an owned entry belongs to a campaign
        campaign = await owned_campaign(session, user_id, entry.campaign_id)
        values["subreddit"] = _target_subreddit(campaign, values["subreddit"])
    row = await repo.update_blacklist_entry(session, entry, **values)
    return mapping.blacklist_versioned(row)


@router.delete("/blacklist/{entry_id}", status_code=204)
async def delete_blacklist_entry(
    user_id: UserId, entry_id: UUID, session: SessionDep, if_match: IfMatch = None
) -> None:
    if if_match is not None:
        entry = await repo.get_blacklist_entry(session, user_id, entry_id, lock=True)
        if entry is None:
            raise NotFound("blacklist entry not found")
        require_version(if_match, mapping.blacklist_versioned(entry), "blacklist entry")
    if not await repo.delete_blacklist_entry(session, user_id, entry_id):
        raise NotFound("blacklist entry not found")


async def _usage(session: SessionDep, user_id: str, now: NowDep) -> api.Usage:
    plan = await repo.get_plan(session, user_id)
    usage = await repo.month_usage(session, user_id, plan, now)
    limits = PLAN_LIMITS[plan]
    return api.Usage(
        plan=plan,
        period_start=usage.period_start,
        resets_at=usage.resets_at,
        drafts_used=usage.drafts_used,
        drafts_limit=limits.drafts_per_month,
        spend_usd=float(usage.spend_usd),
        spend_limit_usd=float(limits.spend_usd_per_month),
        drafts_warning=near_limit(usage.drafts_used, limits.drafts_per_month),
        spend_warning=near_limit(float(usage.spend_usd), float(limits.spend_usd_per_month)),
    )


@router.get("/usage")
async def get_usage(user_id: UserId, session: SessionDep, now: NowDep) -> api.Usage:
    return await _usage(session, user_id, now)


@router.put("/plan")
async def put_plan(
    user_id: UserId, body: PlanChange, session: SessionDep, now: NowDep
) -> api.Usage:
    """Admin path: the gateway never forwards plan changes from clients."""
    await repo.set_plan(session, user_id, body.plan)
    return await _usage(session, user_id, now)
