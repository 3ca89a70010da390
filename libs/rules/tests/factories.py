"""The demo campaign's profiles and blacklist (contracts' demo data) as the rules receive them."""

from __future__ import annotations

from uuid import UUID

from bcrao_contracts import demo
from bcrao_contracts.models import BlacklistEntry, CommunityProfile

CAMPAIGN_ID = UUID("00000000-0000-4000-8000-00000000c0de")


def profile(subreddit: str) -> CommunityProfile:
    return CommunityProfile(subreddit=subreddit, **demo.PROFILES[subreddit].model_dump())


def blacklist(subreddit: str) -> list[BlacklistEntry]:
    return [
        BlacklistEntry(id=UUID(int=i + 1), campaign_id=CAMPAIGN_ID, **entry.model_dump())
        for i, entry in enumerate(demo.BLACKLIST)
        if entry.subreddit in (None, subreddit)
    ]
