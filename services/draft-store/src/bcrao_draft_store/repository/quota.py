"""SQL for accounts, generation tasks and the usage ledger (the monthly quota).

Opening a task is two statements in one transaction (`read_for_open`, then `insert_task`), sent
straight through psycopg as prepared statements: the ORM is a third of the cost of so short a
path. The first statement locks the account row (through `draft_store_lock_quota`, migration
0003) and reads everything the decision and the GenerateRequested snapshot need; the second
inserts the task and its reserved unit. The lock is held until the transaction ends, so
concurrent openings for one user queue on it and each counts the units its predecessors
committed.

An opening with an Idempotency-Key stays two statements: the insert skips a key the user's
earlier task holds (ON CONFLICT on the partial unique index), and only then, or when the opening
is refused, is that task read (`task_by_key`, ADR 0010).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from bcrao_contracts.enums import Plan, TaskStatus
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import next_period_start, period_start
from ..models import Account, GenerationTask, UsageUnit
from .campaigns import MAX_BLACKLIST_PER_TASK
from .driver import driver as _driver

COUNTED = ("reserved", "used")
# Read at call time, so a test can run the same path against a variant without the row lock.
LOCK_FUNCTION = "draft_store_lock_quota"


@dataclass(frozen=True)
class MonthUsage:
    plan: Plan
    period_start: datetime
    resets_at: datetime
    drafts_used: int
    spend_usd: Decimal


@dataclass(frozen=True)
class OpenSnapshot:
    """What the first statement of an opening returns (JSON columns as dicts)."""

    plan: Plan
    used: int
    spend_usd: Decimal
    campaign: dict[str, Any] | None
    parent: dict[str, Any] | None
    subreddit: str | None
    profile: dict[str, Any] | None
    blacklist: list[dict[str, Any]]


@functools.cache
def _open_sql(lock_function: str) -> str:
    # `quota` calls a VOLATILE function, so it runs once and is never inlined; the other reads
    # use this statement's snapshot, which is fine: none of them is decided under the lock.
    # Only identifiers and a constant of this module are formatted in; values are parameters.
    return f"""
WITH quota AS (SELECT * FROM {lock_function}(%(user_id)s, %(period)s)),
parent AS (
    SELECT d.id, d.campaign_id, d.subreddit, d.archetype, d.account_status,
           d.generation_params, t.request, d.title, d.body, d.user_title, d.user_edits
      FROM drafts d LEFT JOIN generation_tasks t ON t.task_id = d.task_id
     WHERE d.id = %(draft_id)s AND d.user_id = %(user_id)s
),
camp AS (
    SELECT c.* FROM campaigns c
     WHERE c.user_id = %(user_id)s
       AND c.id = coalesce(%(campaign_id)s::uuid, (SELECT campaign_id FROM parent))
),
sub AS (
    SELECT coalesce(
        %(subreddit)s::text,
        (SELECT coalesce(nullif(p.generation_params->>'subreddit', ''),
                         nullif(p.request->>'subreddit', ''), p.subreddit) FROM parent p)
    ) AS name
)
SELECT q.plan, q.used, q.spend,
       (SELECT to_jsonb(c) FROM camp c) AS campaign,
       (SELECT to_jsonb(p) FROM parent p) AS parent,
       (SELECT name FROM sub) AS subreddit,
       (SELECT to_jsonb(cp) FROM community_profiles cp, camp c, sub s
         WHERE cp.campaign_id = c.id AND lower(cp.subreddit) = lower(s.name)) AS profile,
       (SELECT coalesce(jsonb_agg(to_jsonb(b) ORDER BY b.created_at, b.id), '[]'::jsonb)
          FROM (SELECT e.* FROM blacklist_entries e, sub s
                 WHERE e.campaign_id IS NULL
                    OR (e.campaign_id = (SELECT id FROM camp)
                        AND (e.subreddit IS NULL OR lower(e.subreddit) = lower(s.name)))
                 ORDER BY e.created_at, e.id
                 LIMIT {MAX_BLACKLIST_PER_TASK}) b) AS blacklist
  FROM quota q
"""  # noqa: S608


_INSERT_TASK_SQL = """
WITH task AS (
    INSERT INTO generation_tasks
        (task_id, user_id, campaign_id, kind, status, request, idempotency_key,
         request_fingerprint, created_at, updated_at)
    VALUES (%(task_id)s, %(user_id)s, %(campaign_id)s, %(kind)s, 'queued', %(request)s,
            %(idempotency_key)s, %(fingerprint)s, now(), now())
    ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING task_id
)
INSERT INTO usage_ledger
    (id, user_id, task_id, period_start, state, cost_usd, created_at, updated_at)
SELECT %(unit_id)s, %(user_id)s, task.task_id, %(period)s, 'reserved', 0, now(), now()
  FROM task
RETURNING task_id
"""


async def read_for_open(
    session: AsyncSession,
    *,
    user_id: str,
    period: datetime,
    campaign_id: UUID | None = None,
    draft_id: UUID | None = None,
    subreddit: str | None = None,
) -> OpenSnapshot:
    """Lock the user's account (created as trial on first sight) and read the month's usage,
    the campaign (given, or the parent draft's), the parent draft with its task's request, the
    profile and the applicable blacklist for the subreddit (given, or the parent's)."""
    params = {
        "user_id": user_id,
        "period": period,
        "campaign_id": campaign_id,
        "draft_id": draft_id,
        "subreddit": subreddit,
    }
    driver = await _driver(session)
    async with driver.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_open_sql(LOCK_FUNCTION), params, prepare=True)
        row = await cursor.fetchone()
    assert row is not None  # the quota function always returns one row
    return OpenSnapshot(
        plan=Plan(row["plan"]),
        used=int(row["used"]),
        spend_usd=Decimal(row["spend"]),
        campaign=row["campaign"],
        parent=row["parent"],
        subreddit=row["subreddit"],
        profile=row["profile"],
        blacklist=list(row["blacklist"]),
    )


async def insert_task(
    session: AsyncSession,
    *,
    user_id: str,
    task_id: UUID,
    campaign_id: UUID,
    kind: str,
    request: dict[str, Any],
    period: datetime,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> bool:
    """The queued task and its reserved unit, in one statement. Call after `read_for_open`.

    False, with nothing inserted, when the user already has a task holding `idempotency_key`."""
    params = {
        "task_id": task_id,
        "user_id": user_id,
        "campaign_id": campaign_id,
        "kind": kind,
        "request": Jsonb(request),
        "idempotency_key": idempotency_key,
        "fingerprint": fingerprint,
        "unit_id": uuid4(),
        "period": period,
    }
    driver = await _driver(session)
    async with driver.cursor() as cursor:
        await cursor.execute(_INSERT_TASK_SQL, params, prepare=True)
        return await cursor.fetchone() is not None


async def task_by_key(
    session: AsyncSession, user_id: str, idempotency_key: str
) -> GenerationTask | None:
    """The user's task opened with this Idempotency-Key. Call under the account lock
    (`read_for_open`): this statement then sees every task committed before the lock was held."""
    query = select(GenerationTask).where(
        GenerationTask.user_id == user_id, GenerationTask.idempotency_key == idempotency_key
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _ensure_account(session: AsyncSession, user_id: str) -> None:
    await session.execute(
        insert(Account)
        .values(user_id=user_id, plan=Plan.TRIAL.value)
        .on_conflict_do_nothing(index_elements=[Account.user_id])
    )


async def set_plan(session: AsyncSession, user_id: str, plan: Plan) -> None:
    await _ensure_account(session, user_id)
    await session.execute(update(Account).where(Account.user_id == user_id).values(plan=plan.value))


async def month_usage(session: AsyncSession, user_id: str, plan: Plan, now: datetime) -> MonthUsage:
    start = period_start(now)
    used, spend = (
        await session.execute(
            select(
                func.count().filter(UsageUnit.state.in_(COUNTED)),
                func.coalesce(func.sum(UsageUnit.cost_usd).filter(UsageUnit.state == "used"), 0),
            ).where(UsageUnit.user_id == user_id, UsageUnit.period_start == start)
        )
    ).one()
    return MonthUsage(plan, start, next_period_start(now), int(used), Decimal(spend))


async def get_task(
    session: AsyncSession, task_id: UUID, *, user_id: str | None = None, lock: bool = False
) -> GenerationTask | None:
    query = select(GenerationTask).where(GenerationTask.task_id == task_id)
    if user_id is not None:
        query = query.where(GenerationTask.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def in_flight_tasks(
    session: AsyncSession, campaign_id: UUID, *, limit: int = 50
) -> list[GenerationTask]:
    """The campaign's queued and running tasks, oldest first."""
    rows = await session.scalars(
        select(GenerationTask)
        .where(
            GenerationTask.campaign_id == campaign_id,
            GenerationTask.status.in_(("queued", "running")),
        )
        .order_by(GenerationTask.created_at, GenerationTask.task_id)
        .limit(limit)
    )
    return list(rows)


async def complete_task(session: AsyncSession, task_id: UUID, *, seq: int, draft_id: UUID) -> None:
    await session.execute(
        update(GenerationTask)
        .where(GenerationTask.task_id == task_id)
        .values(
            status=TaskStatus.COMPLETED.value,
            terminal_seq=seq,
            draft_id=draft_id,
            error_code=None,
            error_message=None,
            error_details=None,
        )
    )


async def fail_task(
    session: AsyncSession,
    task_id: UUID,
    *,
    code: str,
    message: str,
    details: dict[str, Any],
    seq: int | None,
    forget_key: bool = False,
) -> None:
    """`forget_key`: the task no longer holds its Idempotency-Key, so a retry with that key
    opens a new task (a release: the client was told 503, nothing was accepted)."""
    values: dict[str, Any] = {
        "status": TaskStatus.FAILED.value,
        "terminal_seq": seq,
        "error_code": code,
        "error_message": message,
        "error_details": details,
    }
    if forget_key:
        values |= {"idempotency_key": None, "request_fingerprint": None}
    await session.execute(
        update(GenerationTask).where(GenerationTask.task_id == task_id).values(**values)
    )


async def mark_unit(
    session: AsyncSession, task_id: UUID, state: str, *, cost_usd: float | None = None
) -> None:
    values: dict[str, Any] = {"state": state}
    if cost_usd is not None:
        values["cost_usd"] = cost_usd
    await session.execute(update(UsageUnit).where(UsageUnit.task_id == task_id).values(**values))


async def get_plan(session: AsyncSession, user_id: str) -> Plan:
    """The user's plan without creating the account (first sight is trial)."""
    plan = await session.scalar(select(Account.plan).where(Account.user_id == user_id))
    return Plan(plan) if plan else Plan.TRIAL
