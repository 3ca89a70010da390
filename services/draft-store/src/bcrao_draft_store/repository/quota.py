"""SQL for accounts, generation tasks and the usage ledger (the monthly quota)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from bcrao_contracts.enums import Plan, TaskStatus
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import PLAN_LIMITS, next_period_start, period_start
from ..errors import PlanLimitReached
from ..models import Account, GenerationTask, UsageUnit

COUNTED = ("reserved", "used")


@dataclass(frozen=True)
class MonthUsage:
    plan: Plan
    period_start: datetime
    resets_at: datetime
    drafts_used: int
    spend_usd: Decimal


async def _ensure_account(session: AsyncSession, user_id: str) -> None:
    await session.execute(
        insert(Account)
        .values(user_id=user_id, plan=Plan.TRIAL.value)
        .on_conflict_do_nothing(index_elements=[Account.user_id])
    )


async def lock_account(session: AsyncSession, user_id: str) -> Plan:
    """Create the account on first sight (trial) and hold its row lock until the transaction ends.

    Every quota decision for the user happens under this lock, so concurrent requests queue here
    and each one counts the units its predecessors committed.
    """
    await _ensure_account(session, user_id)
    plan = await session.scalar(
        select(Account.plan).where(Account.user_id == user_id).with_for_update()
    )
    return Plan(plan or Plan.TRIAL)  # _ensure_account just made the row: never None here


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


async def reserve_unit(
    session: AsyncSession,
    *,
    user_id: str,
    plan: Plan,
    task_id: UUID,
    campaign_id: UUID,
    kind: str,
    request: dict[str, Any],
    now: datetime,
) -> None:
    """Record a queued task and its reserved unit, or refuse when the month has none left.

    Call it after `lock_account` in the same transaction; that lock is what makes it race-free.
    """
    usage = await month_usage(session, user_id, plan, now)
    limits = PLAN_LIMITS[plan]
    details = {
        "used": usage.drafts_used,
        "limit": limits.drafts_per_month,
        "plan": plan.value,
        "resets_at": usage.resets_at.isoformat(),
    }
    if limits.drafts_per_month is not None and usage.drafts_used >= limits.drafts_per_month:
        raise PlanLimitReached(
            f"the {plan.value} plan allows {limits.drafts_per_month} drafts a month", details
        )
    if usage.spend_usd >= limits.spend_usd_per_month:
        raise PlanLimitReached(
            f"the {plan.value} plan's monthly spend cap (${limits.spend_usd_per_month}) is reached",
            {
                **details,
                "spend_usd": float(usage.spend_usd),
                "spend_limit_usd": float(limits.spend_usd_per_month),
            },
            spend=True,
        )
    session.add(
        GenerationTask(
            task_id=task_id,
            user_id=user_id,
            campaign_id=campaign_id,
            kind=kind,
            status=TaskStatus.QUEUED.value,
            request=request,
        )
    )
    session.add(
        UsageUnit(
            user_id=user_id, task_id=task_id, period_start=usage.period_start, state="reserved"
        )
    )
    await session.flush()


async def get_task(
    session: AsyncSession, task_id: UUID, *, user_id: str | None = None, lock: bool = False
) -> GenerationTask | None:
    query = select(GenerationTask).where(GenerationTask.task_id == task_id)
    if user_id is not None:
        query = query.where(GenerationTask.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


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
) -> None:
    await session.execute(
        update(GenerationTask)
        .where(GenerationTask.task_id == task_id)
        .values(
            status=TaskStatus.FAILED.value,
            terminal_seq=seq,
            error_code=code,
            error_message=message,
            error_details=details,
        )
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


async def stale_queued_tasks(
    session: AsyncSession, *, created_before: datetime, limit: int
) -> list[GenerationTask]:
    query = (
        select(GenerationTask)
        .where(
            GenerationTask.status == TaskStatus.QUEUED.value,
            GenerationTask.created_at < created_before,
        )
        .order_by(GenerationTask.created_at)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
