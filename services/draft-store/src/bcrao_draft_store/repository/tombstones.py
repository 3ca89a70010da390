"""SQL for the tombstones' outbox: failures of tasks whose campaign was deleted in flight."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from .driver import driver

# SKIP LOCKED: the outbox loop, the sweeper and other instances never announce the same task
# twice at once; each takes the rows nobody holds and keeps them until it marked them.
_UNANNOUNCED = """
SELECT task_id, user_id, campaign_id FROM task_tombstones
 WHERE in_flight AND announced_at IS NULL
 ORDER BY created_at
 LIMIT %(limit)s
   FOR UPDATE SKIP LOCKED
"""
_ANNOUNCED = """
UPDATE task_tombstones SET announced_at = now() WHERE task_id = ANY(%(ids)s::uuid[])
"""


@dataclass(frozen=True)
class Unannounced:
    task_id: UUID
    user_id: str
    campaign_id: UUID


async def unannounced(session: AsyncSession, *, limit: int) -> list[Unannounced]:
    conn = await driver(session)
    async with conn.cursor() as cursor:
        await cursor.execute(_UNANNOUNCED, {"limit": limit}, prepare=True)
        return [Unannounced(*row) for row in await cursor.fetchall()]


async def mark_announced(session: AsyncSession, task_ids: list[UUID]) -> None:
    conn = await driver(session)
    async with conn.cursor() as cursor:
        await cursor.execute(_ANNOUNCED, {"ids": task_ids}, prepare=True)
