"""Ends tasks that stayed `queued` far longer than any generation can take.

A task is opened (its unit reserved) before GenerateRequested is published. When the publish
fails the gateway releases the task; if that release fails too, nothing would ever end the task
and its unit would stay reserved. The sweeper publishes a GenerationFailed for such a task, so the
one failure path applies: the consumer marks the task failed and releases the unit, and any
stream still waiting gets an `error`. If a draft does arrive later, it is stored and wins.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.events import GenerationFailed
from bcrao_contracts.topics import Topics
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import repository as repo
from .domain import Clock

log = logging.getLogger(__name__)
BATCH = 100


async def sweep_once(
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    topics: Topics,
    *,
    clock: Clock,
    stale_after: timedelta,
) -> int:
    async with sessions() as session:
        stale = await repo.stale_queued_tasks(
            session, created_before=clock() - stale_after, limit=BATCH
        )
    for task in stale:
        event = GenerationFailed(
            task_id=task.task_id,
            producer="draft-store",
            user_id=task.user_id,
            campaign_id=task.campaign_id,
            code=ErrorCode.GENERATION_FAILED,
            message="The generation did not finish in time; its draft unit was given back.",
            retryable=True,
        )
        await broker.publish(event.to_json(), topics.failed, key=event.key)
        log.warning("swept task %s, queued since %s", task.task_id, task.created_at.isoformat())
    return len(stale)


async def run_sweeper(
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    topics: Topics,
    *,
    clock: Clock,
    stale_after: timedelta,
    every: float,
) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await sweep_once(sessions, broker, topics, clock=clock, stale_after=stale_after)
        except Exception:
            log.exception("sweeping stale tasks failed; trying again in %.0fs", every)
