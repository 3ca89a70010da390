"""SQL for a draft's history: the recorded status changes and edits, and its regenerations."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Draft, DraftHistoryEntry


async def record(session: AsyncSession, **values: Any) -> DraftHistoryEntry:
    entry = DraftHistoryEntry(**values)
    session.add(entry)
    await session.flush()
    await session.refresh(entry)
    return entry


async def entries(session: AsyncSession, draft_id: UUID) -> list[DraftHistoryEntry]:
    """Oldest first; entries written in one transaction share a time and keep their order."""
    rows = await session.scalars(
        select(DraftHistoryEntry)
        .where(DraftHistoryEntry.draft_id == draft_id)
        .order_by(DraftHistoryEntry.id)
    )
    return list(rows)


async def regenerations(session: AsyncSession, user_id: str, draft_id: UUID) -> list[Draft]:
    """Drafts regenerated from this one (the owner's only), oldest first."""
    rows = await session.scalars(
        select(Draft)
        .where(Draft.parent_draft_id == draft_id, Draft.user_id == user_id)
        .order_by(Draft.created_at, Draft.id)
    )
    return list(rows)
