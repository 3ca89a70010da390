"""SQL of a task's life after it opened: the generator's claim and the sweeper's deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from .driver import driver as _driver

_CLAIM_SQL = """
WITH claimed AS (
    UPDATE generation_tasks
       SET status = 'running', claimed_at = now(), attempt_id = %(attempt_id)s, updated_at = now()
     WHERE task_id = %(task_id)s AND user_id = %(user_id)s AND status IN ('queued', 'running')
    RETURNING status
)
SELECT true, status FROM claimed
UNION ALL
SELECT false, status FROM generation_tasks
 WHERE task_id = %(task_id)s AND user_id = %(user_id)s AND NOT EXISTS (SELECT 1 FROM claimed)
"""


async def claim_task(
    session: AsyncSession, *, task_id: UUID, user_id: str, attempt_id: UUID
) -> tuple[bool, str] | None:
    """Move a queued (or re-claim a running) task to running. Returns (claimed, status), or None
    when the user has no such task. Not claimed with status queued or running means the row
    ended while this statement waited for its lock (its snapshot is older): read it again."""
    params = {"task_id": task_id, "user_id": user_id, "attempt_id": attempt_id}
    conn = await _driver(session)
    async with conn.cursor() as cursor:
        await cursor.execute(_CLAIM_SQL, params, prepare=True)
        row = await cursor.fetchone()
    if row is None:
        return None
    return bool(row[0]), str(row[1])


_FAIL_OVERDUE_SQL = """
WITH overdue AS (
    (SELECT task_id FROM generation_tasks
      WHERE status = 'queued' AND created_at < %(queued_before)s
      ORDER BY created_at LIMIT %(limit)s)
    UNION ALL
    (SELECT task_id FROM generation_tasks
      WHERE status = 'running' AND claimed_at < %(claimed_before)s
      ORDER BY claimed_at LIMIT %(limit)s)
),
failed AS (
    UPDATE generation_tasks t
       SET status = 'failed', error_code = 'GENERATION_FAILED', error_message = %(message)s,
           error_details = jsonb_build_object(
               'reason', CASE WHEN t.status = 'queued' THEN 'unclaimed' ELSE 'stale' END),
           updated_at = now()
      FROM overdue
     WHERE t.task_id = overdue.task_id
       AND ((t.status = 'queued' AND t.created_at < %(queued_before)s)
            OR (t.status = 'running' AND t.claimed_at < %(claimed_before)s))
    RETURNING t.task_id, t.user_id, t.campaign_id, t.error_details->>'reason' AS reason
),
released AS (
    UPDATE usage_ledger u SET state = 'released', updated_at = now()
      FROM failed WHERE u.task_id = failed.task_id AND u.state = 'reserved'
)
SELECT task_id, user_id, campaign_id, reason FROM failed
"""


@dataclass(frozen=True)
class OverdueTask:
    task_id: UUID
    user_id: str
    campaign_id: UUID
    reason: str  # unclaimed (queued too long) | stale (claimed too long ago)


async def fail_overdue_tasks(
    session: AsyncSession,
    *,
    queued_before: datetime,
    claimed_before: datetime,
    message: str,
    limit: int,
) -> list[OverdueTask]:
    """Fail queued tasks nobody claimed in time and running ones claimed too long ago, and
    release their units, in one statement (both scans use a partial index of migration 0003).
    The conditions are checked again under each row's lock: a task claimed meanwhile stays."""
    params = {
        "queued_before": queued_before,
        "claimed_before": claimed_before,
        "message": message,
        "limit": limit,
    }
    conn = await _driver(session)
    async with conn.cursor() as cursor:
        await cursor.execute(_FAIL_OVERDUE_SQL, params)
        return [OverdueTask(*row) for row in await cursor.fetchall()]
