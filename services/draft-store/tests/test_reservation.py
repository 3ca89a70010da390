"""The short reservation path: two statements, and the account row lock that makes it race-free.

`test_concurrent_requests_at_the_edge_admit_exactly_the_remainder` (test_quota.py) is the race
at the edge. The tests here show that the lock is what wins it: the same race against a variant
of the lock function without FOR UPDATE over-admits, and a second opening provably waits for the
first one's commit and then counts its unit.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from bcrao_contracts import api
from bcrao_contracts.enums import Archetype, Plan
from bcrao_draft_store import generation_tasks, ingest
from bcrao_draft_store import repository as repo
from bcrao_draft_store.db import session_factory, unit_of_work
from bcrao_draft_store.errors import PlanLimitReached
from bcrao_draft_store.repository import quota
from bcrao_draft_store.repository.driver import driver as driver_of
from bcrao_stacktest.factories import CAMPAIGN, draft_generated
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

MARCH = datetime(2025, 3, 15, 12, tzinfo=UTC)
REQUEST = api.GenerateRequest(subreddit="saas", archetype=Archetype.JOURNEY)

# The production function minus FOR UPDATE. The pause between counting and returning widens the
# window in which a concurrent opening counts the same units, so the race shows every time.
UNLOCKED = """
CREATE OR REPLACE FUNCTION draft_store_lock_quota_unlocked(
    p_user_id text, p_period_start timestamptz
) RETURNS TABLE (plan text, used bigint, spend numeric)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO accounts (user_id, plan, created_at, updated_at)
    VALUES (p_user_id, 'trial', now(), now())
    ON CONFLICT (user_id) DO NOTHING;
    SELECT a.plan INTO plan FROM accounts a WHERE a.user_id = p_user_id;
    SELECT count(*) FILTER (WHERE u.state IN ('reserved', 'used')),
           coalesce(sum(u.cost_usd) FILTER (WHERE u.state = 'used'), 0)
      INTO used, spend
      FROM usage_ledger u
     WHERE u.user_id = p_user_id AND u.period_start = p_period_start;
    PERFORM pg_sleep(0.05);
    RETURN NEXT;
END
$$
"""


async def _campaign_with_used(
    sessions: async_sessionmaker[AsyncSession], user_id: str, used: int
) -> uuid.UUID:
    async with unit_of_work(sessions) as session:
        body = api.CampaignCreate.model_validate(CAMPAIGN)
        campaign = await repo.create_campaign(
            session, user_id=user_id, **body.model_dump(mode="json")
        )
        for _ in range(used):
            opened = await generation_tasks.open_generation(
                session, user_id, campaign.id, REQUEST, MARCH
            )
            await ingest.store_generated(
                session, draft_generated(opened.task_id, user_id, campaign.id, cost=0.001)
            )
    return campaign.id


async def _race(
    sessions: async_sessionmaker[AsyncSession], user_id: str, campaign_id: uuid.UUID, n: int
) -> int:
    async def attempt() -> bool:
        try:
            async with unit_of_work(sessions) as session:
                await generation_tasks.open_generation(
                    session, user_id, campaign_id, REQUEST, MARCH
                )
        except PlanLimitReached:
            return False
        return True

    return sum(await asyncio.gather(*(attempt() for _ in range(n))))


@pytest.fixture
async def unlocked_function(engine: AsyncEngine) -> AsyncIterator[str]:
    async with engine.begin() as connection:
        await connection.execute(text(UNLOCKED))
    yield "draft_store_lock_quota_unlocked"
    async with engine.begin() as connection:
        await connection.execute(
            text("DROP FUNCTION draft_store_lock_quota_unlocked(text, timestamptz)")
        )


async def test_without_the_row_lock_the_same_race_admits_too_many(
    engine: AsyncEngine, user_id: str, unlocked_function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = session_factory(engine)
    campaign_id = await _campaign_with_used(sessions, user_id, 7)
    monkeypatch.setattr(quota, "LOCK_FUNCTION", unlocked_function)
    admitted = await _race(sessions, user_id, campaign_id, 12)
    assert admitted > 3  # the trial's 10 drafts are overdrawn: the lock is what prevents it


async def test_a_second_opening_waits_for_the_first_commit_and_counts_its_unit(
    engine: AsyncEngine, user_id: str
) -> None:
    sessions = session_factory(engine)
    campaign_id = await _campaign_with_used(sessions, user_id, 9)
    async with unit_of_work(sessions) as first:
        await generation_tasks.open_generation(first, user_id, campaign_id, REQUEST, MARCH)
        second = asyncio.create_task(_race(sessions, user_id, campaign_id, 1))
        async with engine.connect() as observer:
            for _ in range(3000):  # until the second opening is blocked on the account row lock
                waiting = await observer.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE '%draft_store_lock_quota(%'"
                        " AND datname = current_database()"
                    )
                )
                await observer.rollback()
                if waiting or second.done():
                    break
                await asyncio.sleep(0.02)
        assert not second.done()
    # The first committed the tenth unit; the second, let through only now, counted it.
    assert await second == 0


async def test_opening_a_task_takes_two_statements(engine: AsyncEngine, user_id: str) -> None:
    """Counted on the wire (libpq's protocol trace): every statement, ORM or not, is a Bind."""
    sessions = session_factory(engine)
    campaign_id = await _campaign_with_used(sessions, user_id, 0)
    with tempfile.TemporaryFile() as trace:
        async with unit_of_work(sessions) as session:
            driver = await driver_of(session)
            driver.pgconn.trace(trace.fileno())
            try:
                await generation_tasks.open_generation(
                    session, user_id, campaign_id, REQUEST, MARCH
                )
            finally:
                driver.pgconn.untrace()
        trace.seek(0)
        sent = [line.split("\t") for line in trace.read().decode().splitlines()]
    statements = [line for line in sent if line[1:2] == ["F"] and line[3:4] == ["Bind"]]
    assert len(statements) == 2


async def test_a_keyed_opening_takes_two_statements_too(engine: AsyncEngine, user_id: str) -> None:
    """The Idempotency-Key costs the opening no statement: the insert skips a held key itself."""
    sessions = session_factory(engine)
    campaign_id = await _campaign_with_used(sessions, user_id, 0)
    key = generation_tasks.IdempotencyKey.of("k", "generate", campaign_id, REQUEST)
    with tempfile.TemporaryFile() as trace:
        async with unit_of_work(sessions) as session:
            driver = await driver_of(session)
            driver.pgconn.trace(trace.fileno())
            try:
                await generation_tasks.open_generation_task(
                    session, user_id, campaign_id, REQUEST, MARCH, key
                )
            finally:
                driver.pgconn.untrace()
        trace.seek(0)
        sent = [line.split("\t") for line in trace.read().decode().splitlines()]
    statements = [line for line in sent if line[1:2] == ["F"] and line[3:4] == ["Bind"]]
    assert len(statements) == 2


async def test_without_the_row_lock_one_key_still_opens_one_task(
    engine: AsyncEngine, user_id: str, unlocked_function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique index is what holds one key to one task when openings are not queued on the
    account row: the losers' inserts skip the key and answer the winner's task."""
    sessions = session_factory(engine)
    campaign_id = await _campaign_with_used(sessions, user_id, 0)
    monkeypatch.setattr(quota, "LOCK_FUNCTION", unlocked_function)
    key = generation_tasks.IdempotencyKey.of("raced", "generate", campaign_id, REQUEST)

    async def attempt() -> generation_tasks.Opening:
        async with unit_of_work(sessions) as session:
            return await generation_tasks.open_generation_task(
                session, user_id, campaign_id, REQUEST, MARCH, key
            )

    openings = await asyncio.gather(*(attempt() for _ in range(6)))
    assert len({o.event.task_id for o in openings}) == 1
    assert sum(o.replayed is None for o in openings) == 1
    async with unit_of_work(sessions) as session:
        usage = await repo.month_usage(session, user_id, Plan.TRIAL, MARCH)
    assert usage.drafts_used == 1
