"""SQL for campaigns, their community profiles and blacklist entries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, delete, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import BlacklistEntry, Campaign, CommunityProfile
from .driver import driver

MAX_BLACKLIST_PER_TASK = 500


async def create_campaign(session: AsyncSession, **values: Any) -> Campaign:
    campaign = Campaign(**values)
    session.add(campaign)
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def get_campaign(
    session: AsyncSession, user_id: str, campaign_id: UUID, *, lock: bool = False
) -> Campaign | None:
    query = select(Campaign).where(Campaign.id == campaign_id, Campaign.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_campaigns(
    session: AsyncSession, user_id: str, *, limit: int, offset: int
) -> tuple[list[Campaign], int]:
    total = await session.scalar(
        select(func.count()).select_from(Campaign).where(Campaign.user_id == user_id)
    )
    rows = await session.scalars(
        select(Campaign)
        .where(Campaign.user_id == user_id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total or 0


async def update_campaign(session: AsyncSession, campaign: Campaign, **values: Any) -> Campaign:
    for key, value in values.items():
        setattr(campaign, key, value)
    await session.flush()
    await session.refresh(campaign)
    return campaign


_LOCK_CAMPAIGN = "SELECT 1 FROM campaigns WHERE id = %(campaign_id)s FOR UPDATE"

# Tasks in flight are failed and refunded here; their GenerationFailed (details.reason
# "campaign_deleted") is published by the sweeper from the tombstone, an outbox a crash cannot
# lose. Every task of the campaign gets a tombstone, so a later DraftGenerated or
# GenerationFailed for it is dropped quietly instead of being dead-lettered as unknown.
_TOMBSTONE_TASKS = """
WITH gone AS (
    SELECT task_id, user_id, campaign_id, status IN ('queued', 'running') AS in_flight
      FROM generation_tasks WHERE campaign_id = %(campaign_id)s
       FOR UPDATE
),
refunded AS (
    UPDATE usage_ledger u SET state = 'released', updated_at = now()
      FROM gone
     WHERE u.task_id = gone.task_id AND gone.in_flight AND u.state = 'reserved'
)
INSERT INTO task_tombstones (task_id, user_id, campaign_id, reason, in_flight, created_at)
SELECT task_id, user_id, campaign_id, 'campaign_deleted', in_flight, now() FROM gone
ON CONFLICT (task_id) DO NOTHING
"""


async def delete_campaign(session: AsyncSession, campaign: Campaign) -> None:
    """Profiles, blacklist entries, drafts and tasks go with it; the usage ledger stays.

    Task rows are not kept (the cascade removes them with the user's content): their ids move
    to `task_tombstones` instead, which is all ingestion needs to drop late events quietly and
    all the sweeper needs to announce the failure of the tasks that were in flight. The
    campaign row is locked first, so a task opened concurrently either commits before this
    reads the campaign's tasks or fails its foreign key check after the delete.
    """
    params = {"campaign_id": campaign.id}
    conn = await driver(session)
    async with conn.cursor() as cursor:
        await cursor.execute(_LOCK_CAMPAIGN, params)
        await cursor.execute(_TOMBSTONE_TASKS, params)
    await session.delete(campaign)
    await session.flush()


async def upsert_profile(
    session: AsyncSession, campaign_id: UUID, subreddit: str, values: dict[str, Any]
) -> tuple[CommunityProfile, bool]:
    """Insert or replace the (campaign, subreddit) profile; returns (row, created)."""
    statement = insert(CommunityProfile).values(
        campaign_id=campaign_id, subreddit=subreddit, **values
    )
    upsert = statement.on_conflict_do_update(
        constraint="uq_community_profiles_campaign_id",
        set_={**values, "updated_at": func.now()},
    )
    inserted = literal_column("xmax = 0", Boolean)  # on the returned row: inserted, not updated
    row = (await session.execute(upsert.returning(CommunityProfile.id, inserted))).one()
    profile_id, created = row
    profile = await session.get(CommunityProfile, profile_id, populate_existing=True)
    assert profile is not None
    return profile, bool(created)


async def list_profiles(session: AsyncSession, campaign_id: UUID) -> list[CommunityProfile]:
    rows = await session.scalars(
        select(CommunityProfile)
        .where(CommunityProfile.campaign_id == campaign_id)
        .order_by(CommunityProfile.subreddit)
    )
    return list(rows)


async def get_profile(
    session: AsyncSession, campaign_id: UUID, subreddit: str, *, lock: bool = False
) -> CommunityProfile | None:
    query = select(CommunityProfile).where(
        CommunityProfile.campaign_id == campaign_id,
        func.lower(CommunityProfile.subreddit) == subreddit.lower(),
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_blacklist(session: AsyncSession, campaign_id: UUID) -> list[BlacklistEntry]:
    """The campaign's entries (campaign-wide and per subreddit) and the global ones."""
    rows = await session.scalars(
        select(BlacklistEntry)
        .where(or_(BlacklistEntry.campaign_id == campaign_id, BlacklistEntry.campaign_id.is_(None)))
        .order_by(BlacklistEntry.created_at, BlacklistEntry.id)
    )
    return list(rows)


async def applicable_blacklist(
    session: AsyncSession, campaign_id: UUID, subreddit: str
) -> list[BlacklistEntry]:
    """Entries whose scope covers (campaign, subreddit): global, campaign-wide, this subreddit."""
    covers = or_(
        BlacklistEntry.campaign_id.is_(None),
        (BlacklistEntry.campaign_id == campaign_id) & BlacklistEntry.subreddit.is_(None),
        (BlacklistEntry.campaign_id == campaign_id)
        & (func.lower(BlacklistEntry.subreddit) == subreddit.lower()),
    )
    rows = await session.scalars(
        select(BlacklistEntry)
        .where(covers)
        .order_by(BlacklistEntry.created_at, BlacklistEntry.id)
        .limit(MAX_BLACKLIST_PER_TASK)
    )
    return list(rows)


async def create_blacklist_entry(session: AsyncSession, **values: Any) -> BlacklistEntry:
    entry = BlacklistEntry(**values)
    session.add(entry)
    await session.flush()
    await session.refresh(entry)
    return entry


async def update_blacklist_entry(
    session: AsyncSession, entry: BlacklistEntry, **values: Any
) -> BlacklistEntry:
    for key, value in values.items():
        setattr(entry, key, value)
    await session.flush()
    await session.refresh(entry)
    return entry


async def get_blacklist_entry(
    session: AsyncSession, user_id: str, entry_id: UUID, *, lock: bool = False
) -> BlacklistEntry | None:
    """One of the user's own entries (global entries belong to nobody)."""
    owned = select(Campaign.id).where(Campaign.user_id == user_id)
    query = select(BlacklistEntry).where(
        BlacklistEntry.id == entry_id, BlacklistEntry.campaign_id.in_(owned)
    )
    if lock:
        query = query.with_for_update(of=BlacklistEntry)
    return (await session.execute(query)).scalar_one_or_none()


async def delete_blacklist_entry(session: AsyncSession, user_id: str, entry_id: UUID) -> bool:
    """Only entries of the user's own campaigns; global entries belong to nobody."""
    owned = select(Campaign.id).where(Campaign.user_id == user_id)
    result = await session.execute(
        delete(BlacklistEntry)
        .where(BlacklistEntry.id == entry_id, BlacklistEntry.campaign_id.in_(owned))
        .returning(BlacklistEntry.id)
    )
    return result.first() is not None
