"""Helpers for this service's tests of its consumers against the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from bcrao_contracts import api
from bcrao_contracts.enums import Archetype
from bcrao_draft_store import generation_tasks
from bcrao_draft_store import repository as repo
from bcrao_draft_store.app import create_broker
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import create_engine, session_factory, unit_of_work
from bcrao_draft_store.handlers import build_router
from bcrao_draft_store.metrics import Metrics
from bcrao_stacktest.factories import CAMPAIGN
from faststream.kafka import KafkaBroker

Records = list[ConsumerRecord[bytes, bytes]]


@asynccontextmanager
async def running_broker(
    settings: Settings, metrics: Metrics | None = None
) -> AsyncIterator[tuple[KafkaBroker, Metrics]]:
    """The service's consumers, as `create_app`'s lifespan runs them, and their broker."""
    metrics = metrics or Metrics()
    engine = create_engine(settings.database_url, pool_size=2)
    broker = create_broker(settings, metrics.registry)
    broker.include_router(build_router(settings, session_factory(engine), metrics))
    await broker.start()
    try:
        yield broker, metrics
    finally:
        await broker.stop()
        await engine.dispose()


@asynccontextmanager
async def running_consumer(
    settings: Settings, metrics: Metrics | None = None
) -> AsyncIterator[Metrics]:
    """The service's consumers, as `create_app`'s lifespan runs them."""
    async with running_broker(settings, metrics) as (_, running):
        yield running


async def publish(
    bootstrap: str, topic: str, *values: bytes, key: bytes | None = b"k", max_bytes: int = 1 << 20
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=max_bytes, linger_ms=5
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for value in values]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def read(
    bootstrap: str,
    topic: str,
    done: Callable[[Records], bool],
    timeout: float = 30,
) -> Records:
    """Records of `topic` from the start, until `done(records)` (or the timeout: then whatever
    arrived, for the caller's assertion to report)."""
    records: Records = []
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 << 20,
        fetch_max_bytes=8 << 20,
    )
    await reader.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done(records) and asyncio.get_running_loop().time() < deadline:
            batches = await reader.getmany(timeout_ms=500)
            records += [record for batch in batches.values() for record in batch]
    finally:
        await reader.stop()
    return records


async def open_tasks(
    settings: Settings, user_id: str, now: datetime, count: int = 1
) -> tuple[list[uuid.UUID], uuid.UUID]:
    """A campaign and `count` opened tasks of it (the user is on the growth plan)."""
    from bcrao_contracts.enums import Plan

    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            body = api.CampaignCreate.model_validate(CAMPAIGN)
            campaign = await repo.create_campaign(
                session, user_id=user_id, **body.model_dump(mode="json")
            )
            await repo.set_plan(session, user_id, Plan.GROWTH)
            request = api.GenerateRequest(subreddit="SaaS", archetype=Archetype.JOURNEY)
            ids = [
                (
                    await generation_tasks.open_generation(
                        session, user_id, campaign.id, request, now
                    )
                ).task_id
                for _ in range(count)
            ]
    finally:
        await engine.dispose()
    return ids, campaign.id
