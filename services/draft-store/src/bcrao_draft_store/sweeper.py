"""Ends tasks nobody will finish, and announces the failures of deleted campaigns' tasks.

- A task is opened (its unit reserved) before GenerateRequested is published. If the publish
  never happened and the gateway's release was lost too, no generator ever claims it: after
  `unclaimed_task_seconds` (default 600) a queued task is failed and its unit released.
- A claimed (running) task whose generator died and was never redelivered would wait forever:
  after `stale_task_seconds` (default 1800, longer than the longest generation allows) it is
  failed the same way.
- Deleting a campaign fails its in-flight tasks in the same transaction and leaves tombstones
  to announce (an outbox); `run_outbox` publishes their GenerationFailed within about a second
  and marks them (each sweep does too).

The database change comes first and is conditional on the task still being overdue under its
row lock, so a task claimed at the last moment is left alone; then GenerationFailed is
published so any stream waiting on the task gets an `error` (a crash between the two leaves
the failure in the database only; a stream that reconnects reads it from the task's state).
A draft arriving later is stored anyway and wins (see ingest.py), except for a deleted
campaign's task (tombstoned).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.events import GenerationFailed
from bcrao_contracts.topics import Topics
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import repository as repo
from .db import unit_of_work
from .domain import Clock
from .metrics import Metrics
from .publishing import publish_all
from .repository import tombstones

log = logging.getLogger(__name__)
BATCH = 500
PRODUCER = "draft-store"
OVERDUE_MESSAGE = "The generation did not finish in time; its draft unit was given back."
DELETED_MESSAGE = "The campaign was deleted; its draft unit was given back."


@dataclass(frozen=True)
class SweepPolicy:
    unclaimed_after: timedelta
    stale_after: timedelta


@dataclass(frozen=True)
class Swept:
    overdue: list[repo.OverdueTask]
    announced: int

    @property
    def by_reason(self) -> dict[str, int]:
        counts = {"campaign_deleted": self.announced} if self.announced else {}
        for task in self.overdue:
            counts[task.reason] = counts.get(task.reason, 0) + 1
        return counts


def _failure(task: repo.OverdueTask | tombstones.Unannounced, reason: str) -> GenerationFailed:
    return GenerationFailed(
        task_id=task.task_id,
        producer=PRODUCER,
        user_id=task.user_id,
        campaign_id=task.campaign_id,
        code=ErrorCode.GENERATION_FAILED,
        message=DELETED_MESSAGE if reason == "campaign_deleted" else OVERDUE_MESSAGE,
        details={"reason": reason},
        retryable=reason != "campaign_deleted",
    )


async def sweep_once(
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    topics: Topics,
    *,
    clock: Clock,
    policy: SweepPolicy,
) -> Swept:
    now = clock()
    async with unit_of_work(sessions) as session:
        overdue = await repo.fail_overdue_tasks(
            session,
            queued_before=now - policy.unclaimed_after,
            claimed_before=now - policy.stale_after,
            message=OVERDUE_MESSAGE,
            limit=BATCH,
        )
    await publish_all(broker, topics.failed, [_failure(t, t.reason) for t in overdue])
    for task in overdue:
        log.warning("swept task %s (%s): failed, unit released", task.task_id, task.reason)
    return Swept(overdue, await announce_deleted(sessions, broker, topics))


async def announce_deleted(
    sessions: async_sessionmaker[AsyncSession], broker: KafkaBroker, topics: Topics
) -> int:
    """Publish the GenerationFailed of tasks failed by a campaign delete, then mark them, in one
    transaction that holds their rows: a crash before the mark announces them again (at least
    once), and nobody else announces them meanwhile."""
    async with unit_of_work(sessions) as session:
        pending: Sequence[tombstones.Unannounced] = await tombstones.unannounced(
            session, limit=BATCH
        )
        if not pending:
            return 0
        failures = [_failure(t, "campaign_deleted") for t in pending]
        await publish_all(broker, topics.failed, failures)
        await tombstones.mark_announced(session, [t.task_id for t in pending])
    return len(pending)


async def run_sweeper(
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    topics: Topics,
    *,
    clock: Clock,
    policy: SweepPolicy,
    every: float,
    metrics: Metrics,
) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            swept = await sweep_once(sessions, broker, topics, clock=clock, policy=policy)
            for reason, count in swept.by_reason.items():
                metrics.tasks_swept.labels(reason).inc(count)
        except Exception as exc:  # an outage: the next round tries again
            log.warning("sweeping failed (%s); trying again in %.0fs", exc, every)


async def run_outbox(
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    topics: Topics,
    *,
    every: float,
    metrics: Metrics,
) -> None:
    """Announce deleted campaigns' failures promptly (streams end within about `every`), not
    only at the next sweep; the query is an index scan of a partial index that is nearly empty."""
    while True:
        await asyncio.sleep(every)
        try:
            announced = await announce_deleted(sessions, broker, topics)
            if announced:
                metrics.tasks_swept.labels("campaign_deleted").inc(announced)
        except Exception as exc:
            log.warning("announcing deleted campaigns' tasks failed (%s); trying again", exc)
