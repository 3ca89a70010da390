"""GenerateRequested events for the demo campaign of DOMAIN.md "Sample data" (contracts' demo)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from bcrao_contracts import demo
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.models import BlacklistEntry, CampaignSnapshot, CommunityProfile

CAMPAIGN_ID = UUID("00000000-0000-4000-8000-00000000c0de")
TASK_ID = UUID("00000000-0000-4000-8000-000000000001")
PARENT_ID = UUID("00000000-0000-4000-8000-0000000000aa")
EVENT_ID = UUID("00000000-0000-4000-8000-0000000000ee")


def campaign() -> CampaignSnapshot:
    c = demo.CAMPAIGN
    return CampaignSnapshot(
        id=CAMPAIGN_ID,
        name=c.name,
        product_context=c.product_context,
        product_url=c.product_url,
        keywords=c.keywords,
    )


def profile(subreddit: str) -> CommunityProfile | None:
    data = demo.PROFILES.get(subreddit)
    if data is None:
        return None
    return CommunityProfile(subreddit=subreddit, **data.model_dump())


def blacklist(subreddit: str) -> list[BlacklistEntry]:
    return [
        BlacklistEntry(
            id=UUID(int=i + 1),
            campaign_id=CAMPAIGN_ID,
            **entry.model_dump(),
        )
        for i, entry in enumerate(demo.BLACKLIST)
        if entry.subreddit in (None, subreddit)
    ]


def request(
    subreddit: str = "SaaS",
    archetype: Archetype = Archetype.PROBLEM_SOLUTION,
    account_status: AccountStatus = AccountStatus.ESTABLISHED,
    context: str = "",
    **overrides: Any,
) -> GenerateRequested:
    fields: dict[str, Any] = {
        "event_id": EVENT_ID,
        "task_id": TASK_ID,
        "producer": "tests",
        "user_id": demo.DEMO_USER,
        "campaign": campaign(),
        "subreddit": subreddit,
        "archetype": archetype,
        "account_status": account_status,
        "context": context,
        "profile": profile(subreddit),
        "blacklist": blacklist(subreddit),
    }
    fields.update(overrides)
    return GenerateRequested(**fields)
