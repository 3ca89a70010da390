"""The monthly quota: race-free reservations, month rollover, spend cap, release on failure."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bcrao_contracts import api
from bcrao_contracts.enums import Archetype, Plan
from bcrao_draft_store import generation_tasks, ingest
from bcrao_draft_store import repository as repo
from bcrao_draft_store.db import session_factory, unit_of_work
from bcrao_draft_store.domain import period_start
from bcrao_draft_store.errors import PlanLimitReached
from bcrao_draft_store.models import UsageUnit
from bcrao_stacktest.factories import CAMPAIGN, draft_generated, generation_failed
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

MARCH = datetime(2025, 3, 15, 12, tzinfo=UTC)
REQUEST = api.GenerateRequest(subreddit="SaaS", archetype=Archetype.JOURNEY)


async def _campaign(session: AsyncSession, user_id: str) -> uuid.UUID:
    body = api.CampaignCreate.model_validate(CAMPAIGN)
    row = await repo.create_campaign(session, user_id=user_id, **body.model_dump(mode="json"))
    return row.id


async def _units(session: AsyncSession, user_id: str, state: str) -> int:
    query = select(func.count()).where(UsageUnit.user_id == user_id, UsageUnit.state == state)
    return int(await session.scalar(query) or 0)


async def test_a_task_reserves_one_unit(session: AsyncSession, user_id: str) -> None:
    campaign_id = await _campaign(session, user_id)
    event = await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    usage = await repo.month_usage(session, user_id, Plan.TRIAL, MARCH)
    assert usage.drafts_used == 1
    assert await _units(session, user_id, "reserved") == 1
    task = await repo.get_task(session, event.task_id)
    assert task is not None
    assert task.status == "queued"
    assert task.request["task_id"] == str(event.task_id)


async def test_the_eleventh_trial_draft_is_refused_with_details(
    session: AsyncSession, user_id: str
) -> None:
    campaign_id = await _campaign(session, user_id)
    for _ in range(10):
        await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    with pytest.raises(PlanLimitReached) as caught:
        await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    assert caught.value.status_code == 403
    assert caught.value.details == {
        "used": 10,
        "limit": 10,
        "plan": "trial",
        "resets_at": "2025-04-01T00:00:00+00:00",
    }


async def test_a_new_month_has_a_fresh_quota(session: AsyncSession, user_id: str) -> None:
    campaign_id = await _campaign(session, user_id)
    for _ in range(10):
        await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    last_second = datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(PlanLimitReached):
        await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, last_second)
    april = datetime(2025, 4, 1, 0, 0, 1, tzinfo=UTC)
    await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, april)
    usage = await repo.month_usage(session, user_id, Plan.TRIAL, april)
    assert usage.drafts_used == 1
    assert usage.period_start == datetime(2025, 4, 1, tzinfo=UTC)


async def test_the_spend_cap_answers_402(session: AsyncSession, user_id: str) -> None:
    campaign_id = await _campaign(session, user_id)
    event = await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    await ingest.store_generated(
        session, draft_generated(event.task_id, user_id, campaign_id, cost=5.0)
    )
    usage = await repo.month_usage(session, user_id, Plan.TRIAL, MARCH)
    assert usage.spend_usd == Decimal("5")
    with pytest.raises(PlanLimitReached) as caught:
        await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    assert caught.value.status_code == 402
    assert caught.value.details["used"] == 1
    assert caught.value.details["spend_limit_usd"] == 5.0


async def test_growth_is_unlimited_in_count(session: AsyncSession, user_id: str) -> None:
    campaign_id = await _campaign(session, user_id)
    await repo.set_plan(session, user_id, Plan.GROWTH)
    for _ in range(55):
        await repo.insert_task(
            session,
            user_id=user_id,
            task_id=uuid.uuid4(),
            campaign_id=campaign_id,
            kind="generate",
            request={},
            period=period_start(MARCH),
        )
    event = await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    assert event.plan is Plan.GROWTH
    assert (await repo.month_usage(session, user_id, Plan.GROWTH, MARCH)).drafts_used == 56


async def test_a_failure_gives_the_unit_back_once(session: AsyncSession, user_id: str) -> None:
    campaign_id = await _campaign(session, user_id)
    event = await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    failed = generation_failed(event.task_id, user_id, campaign_id)
    assert await ingest.record_failure(session, failed) is True
    assert await ingest.record_failure(session, failed) is False
    assert await _units(session, user_id, "released") == 1
    assert (await repo.month_usage(session, user_id, Plan.TRIAL, MARCH)).drafts_used == 0
    task = await repo.get_task(session, event.task_id)
    assert task is not None
    assert (task.status, task.error_code, task.terminal_seq) == ("failed", "LLM_UNAVAILABLE", 4)


async def test_a_failure_after_the_draft_changes_nothing(
    session: AsyncSession, user_id: str
) -> None:
    campaign_id = await _campaign(session, user_id)
    event = await generation_tasks.open_generation(session, user_id, campaign_id, REQUEST, MARCH)
    await ingest.store_generated(session, draft_generated(event.task_id, user_id, campaign_id))
    assert (
        await ingest.record_failure(session, generation_failed(event.task_id, user_id, campaign_id))
        is False
    )
    assert await _units(session, user_id, "used") == 1


async def test_concurrent_requests_at_the_edge_admit_exactly_the_remainder(
    engine: AsyncEngine, user_id: str
) -> None:
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        campaign_id = await _campaign(session, user_id)
        for _ in range(7):
            event = await generation_tasks.open_generation(
                session, user_id, campaign_id, REQUEST, MARCH
            )
            await ingest.store_generated(
                session, draft_generated(event.task_id, user_id, campaign_id, cost=0.001)
            )

    async def attempt() -> bool:
        try:
            async with unit_of_work(sessions) as session:
                await generation_tasks.open_generation(
                    session, user_id, campaign_id, REQUEST, MARCH
                )
        except PlanLimitReached:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt() for _ in range(30)))
    assert outcomes.count(True) == 3
    async with sessions() as session:
        assert await _units(session, user_id, "reserved") == 3
        assert await _units(session, user_id, "used") == 7
