"""Loads DOMAIN.md's sample data (`bcrao_contracts.demo`) for any user, idempotently."""

from __future__ import annotations

from uuid import UUID

from bcrao_contracts.demo import BLACKLIST, CAMPAIGN, PROFILES
from sqlalchemy.ext.asyncio import AsyncSession

from . import mapping
from . import repository as repo


async def seed_demo(session: AsyncSession, user_id: str) -> UUID:
    """Create (or find) the demo campaign with its profiles and r/SaaS blacklist; returns its id."""
    campaigns, _ = await repo.list_campaigns(session, user_id, limit=100, offset=0)
    campaign = next((c for c in campaigns if c.name == CAMPAIGN.name), None)
    if campaign is None:
        campaign = await repo.create_campaign(
            session, user_id=user_id, **CAMPAIGN.model_dump(mode="json")
        )
    for subreddit, profile in PROFILES.items():
        await repo.upsert_profile(session, campaign.id, subreddit, mapping.profile_columns(profile))
    existing = {(e.pattern, e.subreddit) for e in await repo.list_blacklist(session, campaign.id)}
    for entry in BLACKLIST:
        if (entry.pattern, entry.subreddit) in existing:
            continue
        await repo.create_blacklist_entry(
            session, campaign_id=campaign.id, **entry.model_dump(mode="json")
        )
    return campaign.id
