"""SQL for drafts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Float, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Draft
from .driver import driver


async def insert_draft_if_absent(
    session: AsyncSession, task_id: UUID, values: dict[str, Any]
) -> tuple[Draft, bool]:
    """One draft per task whatever the number of deliveries; returns (stored row, inserted now)."""
    inserted_id = await session.scalar(
        insert(Draft)
        .values(task_id=task_id, **values)
        .on_conflict_do_nothing(index_elements=[Draft.task_id])
        .returning(Draft.id)
    )
    draft = await get_draft_by_task(session, task_id)
    assert draft is not None
    return draft, inserted_id is not None


async def get_draft_by_task(session: AsyncSession, task_id: UUID) -> Draft | None:
    query = select(Draft).where(Draft.task_id == task_id).execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def parent_exists(session: AsyncSession, draft_id: UUID) -> bool:
    return (await session.scalar(select(Draft.id).where(Draft.id == draft_id))) is not None


async def get_draft(
    session: AsyncSession, user_id: str, draft_id: UUID, *, lock: bool = False
) -> Draft | None:
    query = select(Draft).where(Draft.id == draft_id, Draft.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_drafts(
    session: AsyncSession,
    campaign_id: UUID,
    *,
    statuses: list[str],
    subreddit: str | None,
    limit: int,
    offset: int,
    search: str | None = None,
    archetype: str | None = None,
    needs_review: bool | None = None,
    sort: str = "newest",
) -> tuple[list[Draft], int]:
    """Newest first (or oldest first, or best current score first); `statuses` empty means any
    status. `search` looks for the words, as typed, in the generated and edited title and text."""
    conditions: list[Any] = [Draft.campaign_id == campaign_id]
    if statuses:
        conditions.append(Draft.status.in_(statuses))
    if subreddit:
        conditions.append(func.lower(Draft.subreddit) == subreddit.lower())
    if archetype:
        conditions.append(Draft.archetype == archetype)
    if needs_review is not None:
        conditions.append(Draft.needs_review.is_(needs_review))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        conditions.append(
            or_(
                *(
                    column.ilike(like, escape="\\")
                    for column in (Draft.title, Draft.body, Draft.user_title, Draft.user_edits)
                )
            )
        )
    total = await session.scalar(select(func.count()).select_from(Draft).where(*conditions))
    order: list[Any]
    if sort == "oldest":
        order = [Draft.created_at.asc(), Draft.id.asc()]
    elif sort == "score":
        current = func.coalesce(
            Draft.edit_report["scores"]["overall"].astext.cast(Float),
            Draft.scores["overall"].astext.cast(Float),
        )
        order = [current.desc().nulls_last(), Draft.created_at.desc(), Draft.id.desc()]
    else:
        order = [Draft.created_at.desc(), Draft.id.desc()]
    rows = await session.scalars(
        select(Draft).where(*conditions).order_by(*order).limit(limit).offset(offset)
    )
    return list(rows), total or 0


_LOCK_TASK = "SELECT 1 FROM generation_tasks WHERE task_id = %(task_id)s FOR UPDATE"

_TOMBSTONE_AND_DELETE = """
WITH tombstone AS (
    INSERT INTO task_tombstones (task_id, user_id, campaign_id, reason, in_flight, created_at)
    VALUES (%(task_id)s, %(user_id)s, %(campaign_id)s, 'draft_deleted', false, now())
    ON CONFLICT (task_id) DO NOTHING
)
DELETE FROM drafts WHERE id = %(draft_id)s
"""


async def delete_draft(session: AsyncSession, draft: Draft) -> None:
    """Delete the draft and tombstone its task, so a redelivered DraftGenerated never stores it
    again. The task row is locked first: the consumer locks it before it reads tombstones, so
    one of the two waits for the other (see repository.batches)."""
    params = {
        "task_id": draft.task_id,
        "user_id": draft.user_id,
        "campaign_id": draft.campaign_id,
        "draft_id": draft.id,
    }
    conn = await driver(session)
    async with conn.cursor() as cursor:
        await cursor.execute(_LOCK_TASK, params)
        await cursor.execute(_TOMBSTONE_AND_DELETE, params)
    session.expunge(draft)
