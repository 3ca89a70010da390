"""What the consumed events do to the database. Runs inside the caller's transaction; no commit.

Decisions:
- DraftGenerated for a task with no row (never opened, or its campaign was deleted) cannot be
  stored: the draft's owner and campaign are unproven. It is dead-lettered (`Unprocessable`).
  A DraftGenerated whose user or campaign disagrees with the task is dead-lettered too.
- DraftGenerated for a task that is already `failed` (e.g. the gateway released it after an
  ambiguous publish that did reach Kafka) is stored anyway: the draft exists and cost money, so
  the task becomes `completed` and its unit `used`, as for any stored draft.
- GenerationFailed for a task that already has its draft changes nothing (the draft wins);
  for an unknown task it is dead-lettered; repeated, it is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from bcrao_contracts import models as contracts
from bcrao_contracts.enums import TaskStatus
from bcrao_contracts.events import DraftGenerated, GenerationFailed
from sqlalchemy.ext.asyncio import AsyncSession

from . import mapping
from . import repository as repo


class Unprocessable(Exception):
    """The message is well-formed but can never be applied; it belongs in the dead-letter topic."""


@dataclass(frozen=True)
class StoreResult:
    draft: contracts.Draft
    inserted: bool


async def store_generated(session: AsyncSession, event: DraftGenerated) -> StoreResult:
    task = await repo.get_task(session, event.task_id, lock=True)
    if task is None:
        raise Unprocessable(f"no generation task {event.task_id}")
    if task.user_id != event.draft.user_id or task.campaign_id != event.draft.campaign_id:
        raise Unprocessable("the draft's user or campaign does not match its task")
    values = mapping.draft_columns(event.draft)
    parent: UUID | None = values["parent_draft_id"]
    if parent is not None and not await repo.parent_exists(session, parent):
        values["parent_draft_id"] = None  # the parent was deleted meanwhile; keep the new draft
    row, inserted = await repo.insert_draft_if_absent(session, event.task_id, values)
    await repo.mark_unit(session, event.task_id, "used", cost_usd=float(row.cost_usd))
    if task.status != TaskStatus.COMPLETED.value or task.draft_id != row.id:
        await repo.complete_task(session, event.task_id, seq=event.seq, draft_id=row.id)
    return StoreResult(mapping.draft_out(row), inserted)


async def record_failure(session: AsyncSession, event: GenerationFailed) -> bool:
    """Returns True when the task changed (it was queued and is now failed, its unit released)."""
    task = await repo.get_task(session, event.task_id, lock=True)
    if task is None:
        raise Unprocessable(f"no generation task {event.task_id}")
    if task.status != TaskStatus.QUEUED.value:
        return False
    await repo.fail_task(
        session,
        event.task_id,
        code=event.code.value,
        message=event.message,
        details=event.details,
        seq=event.seq,
    )
    await repo.mark_unit(session, event.task_id, "released")
    return True
