"""Consumers in memory (faststream's TestKafkaBroker) against the real test database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from bcrao_contracts import api
from bcrao_contracts.enums import Archetype
from bcrao_contracts.events import DraftStored
from bcrao_contracts.topics import Topics, dlq
from bcrao_draft_store import generation_tasks
from bcrao_draft_store import repository as repo
from bcrao_draft_store.app import create_broker
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import create_engine, session_factory, unit_of_work
from bcrao_draft_store.handlers import build_router
from bcrao_draft_store.metrics import Metrics
from bcrao_draft_store.models import Draft, UsageUnit
from bcrao_stacktest.factories import CAMPAIGN, draft_generated, generation_failed
from faststream.kafka import KafkaMessage, TestKafkaBroker
from sqlalchemy import func, select

NOW = datetime(2025, 5, 5, tzinfo=UTC)


async def test_handlers_store_once_release_and_dead_letter(
    settings: Settings, user_id: str
) -> None:
    engine = create_engine(settings.database_url, pool_size=2)
    sessions = session_factory(engine)
    metrics = Metrics()
    broker = create_broker(settings)
    broker.include_router(build_router(settings, sessions, metrics))
    topics = Topics(settings.topic_prefix)
    stored: list[DraftStored] = []
    dead: list[KafkaMessage] = []

    @broker.subscriber(topics.stored)
    async def collect_stored(msg: KafkaMessage) -> None:
        stored.append(DraftStored.parse(msg.body))

    @broker.subscriber(dlq(topics.generated))
    async def collect_dead(msg: KafkaMessage) -> None:
        dead.append(msg)

    async with unit_of_work(sessions) as session:
        body = api.CampaignCreate.model_validate(CAMPAIGN)
        campaign = await repo.create_campaign(
            session, user_id=user_id, **body.model_dump(mode="json")
        )
        request = api.GenerateRequest(subreddit="SaaS", archetype=Archetype.JOURNEY)
        ok = await generation_tasks.open_generation(session, user_id, campaign.id, request, NOW)
        doomed = await generation_tasks.open_generation(session, user_id, campaign.id, request, NOW)

    event = draft_generated(ok.task_id, user_id, campaign.id, cost=0.02)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(event.to_json(), topics.generated, key=event.key)
        await test_broker.publish(event.to_json(), topics.generated, key=event.key)
        await test_broker.publish(b"{not json", topics.generated)
        orphan = draft_generated(uuid.uuid4(), user_id, campaign.id)
        await test_broker.publish(orphan.to_json(), topics.generated)
        failed = generation_failed(doomed.task_id, user_id, campaign.id)
        await test_broker.publish(failed.to_json(), topics.failed)

    async with sessions() as session:
        drafts = await session.scalar(select(func.count()).where(Draft.task_id == ok.task_id))
        states = dict(
            (
                await session.execute(
                    select(UsageUnit.task_id, UsageUnit.state).where(UsageUnit.user_id == user_id)
                )
            ).all()
        )
    await engine.dispose()
    assert drafts == 1
    assert states == {ok.task_id: "used", doomed.task_id: "released"}
    assert len(stored) == 2
    assert stored[0].event_id == stored[1].event_id  # redelivery re-publishes the same fact
    assert (stored[0].seq, stored[0].draft.task_id, stored[0].producer) == (
        9,
        ok.task_id,
        "draft-store",
    )
    assert [m.headers["x-dlq-reason"] for m in dead] == ["unreadable", "unprocessable"]
    assert [m.headers["x-dlq-consumer"] for m in dead] == ["draft-store", "draft-store"]
    counted = (
        metrics.value("draft_store_drafts_stored_total"),
        metrics.value("draft_store_redeliveries_skipped_total"),
        metrics.value("draft_store_generation_failures_total"),
    )
    assert counted == (1, 1, 1)
    for reason in ("unreadable", "unprocessable"):
        labels = {"topic": topics.generated, "reason": reason}
        assert metrics.value("draft_store_dead_letters_total", **labels) == 1
