"""What the consumed events do to the database, a batch at a time. Runs inside the caller's
transaction; no commit. Every function returns one outcome per event, in order.

Decisions:
- DraftGenerated for a task with no row and no tombstone (never opened) cannot be stored: the
  draft's owner and campaign are unproven. It is refused (dead-lettered). So is a DraftGenerated
  whose user or campaign disagrees with its task.
- DraftGenerated for a tombstoned task (its draft was deleted, or its campaign) is dropped: the
  message is acknowledged and nothing is stored, so a deleted draft never comes back.
- DraftGenerated for a task that is already `failed` (e.g. the gateway released it after an
  ambiguous publish that did reach Kafka, or the sweeper ended it) is stored anyway: the draft
  exists and cost money, so the task becomes `completed` and its unit `used`.
- GenerationFailed for a task that already ended changes nothing (a stored draft wins); for a
  tombstoned task it is dropped; for an unknown task it is refused; repeated, it is a no-op.
- Redelivering a whole batch stores nothing twice and moves no unit twice: drafts are unique per
  task (ON CONFLICT DO NOTHING), and the updates only touch rows not yet in their final state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import cast
from uuid import UUID

from bcrao_contracts import models as contracts
from bcrao_contracts.events import DraftGenerated, GenerationFailed
from sqlalchemy.ext.asyncio import AsyncSession

from . import mapping, models
from .repository import batches


class Unprocessable(Exception):
    """The message is well-formed but can never be applied; it belongs in the dead-letter topic."""


class Discarded(Exception):
    """The message is for a tombstoned task: acknowledge it and store nothing."""


@dataclass(frozen=True)
class Stored:
    draft: contracts.Draft
    inserted: bool


@dataclass(frozen=True)
class Dropped:
    reason: str  # the tombstone's: draft_deleted | campaign_deleted


@dataclass(frozen=True)
class Refused:
    reason: str  # why it can never apply; the dead letter says so


@dataclass(frozen=True)
class Applied:
    changed: bool  # False: the task had already ended


GeneratedOutcome = Stored | Dropped | Refused
FailedOutcome = Applied | Dropped | Refused
StoreResult = Stored  # the single-message name other suites use


def _row(event: DraftGenerated) -> dict[str, object]:
    columns = mapping.draft_columns(event.draft)
    return batches.draft_row(columns, task_id=event.task_id, seq=event.seq)


async def store_generated_batch(
    session: AsyncSession, events: Sequence[DraftGenerated]
) -> list[GeneratedOutcome]:
    """Two statements for the whole batch (lock the tasks, then write; see repository.batches)."""
    firsts: dict[UUID, DraftGenerated] = {}
    for event in events:
        firsts.setdefault(event.task_id, event)  # a task twice in one batch is written once
    tasks = await batches.lock_tasks(session, sorted(firsts))
    refused: dict[UUID, Refused] = {}
    rows, missing = [], []
    for task_id, event in firsts.items():
        task = tasks.get(task_id)
        if task is None:
            missing.append(task_id)
        elif task.user_id != event.draft.user_id or task.campaign_id != event.draft.campaign_id:
            refused[task_id] = Refused("the draft's user or campaign does not match its task")
        else:
            rows.append(_row(event))
    stored, dropped = await batches.store_drafts(session, rows, missing)
    outcomes: list[GeneratedOutcome] = []
    for event in events:
        task_id = event.task_id
        if task_id in refused:
            outcomes.append(refused[task_id])
        elif task_id in dropped:
            outcomes.append(Dropped(dropped[task_id]))
        elif task_id in stored:
            row = stored[task_id]
            # The row as JSON, read through the same mapping as the REST answers.
            draft = mapping.draft_out(cast(models.Draft, SimpleNamespace(**row.draft)))
            first = row.inserted and firsts[task_id] is event
            outcomes.append(Stored(draft, first))
        elif task_id in missing:
            outcomes.append(Refused(f"no generation task {task_id}"))
        else:  # every live row comes back; anything else means the batch did not apply
            raise RuntimeError(f"task {task_id} has no outcome in its batch")
    return outcomes


async def record_failure_batch(
    session: AsyncSession, events: Sequence[GenerationFailed]
) -> list[FailedOutcome]:
    """One statement for the whole batch."""
    rows = [
        {
            "task_id": str(e.task_id),
            "seq": e.seq,
            "code": e.code.value,
            "message": e.message,
            "details": e.details,
        }
        for e in {e.task_id: e for e in reversed(events)}.values()  # the first per task wins
    ]
    results = await batches.fail_tasks(session, rows)
    changed: set[UUID] = set()
    outcomes: list[FailedOutcome] = []
    for event in events:
        result = results.get(event.task_id)
        if result is None:
            outcomes.append(Refused(f"no generation task {event.task_id}"))
        elif result == "failed" and event.task_id not in changed:
            changed.add(event.task_id)
            outcomes.append(Applied(True))
        elif result in ("failed", "unchanged"):
            outcomes.append(Applied(False))
        else:
            outcomes.append(Dropped(result))
    return outcomes


async def store_generated(session: AsyncSession, event: DraftGenerated) -> Stored:
    """One message: the stored draft, or `Unprocessable` / `Discarded`."""
    [outcome] = await store_generated_batch(session, [event])
    _raise_unless_applied(outcome)
    assert isinstance(outcome, Stored)
    return outcome


async def record_failure(session: AsyncSession, event: GenerationFailed) -> bool:
    """One message: True when the task changed (it was queued or running and is now failed,
    its unit released); raises `Unprocessable` / `Discarded` like `store_generated`."""
    [outcome] = await record_failure_batch(session, [event])
    _raise_unless_applied(outcome)
    assert isinstance(outcome, Applied)
    return outcome.changed


def _raise_unless_applied(outcome: Stored | Applied | Dropped | Refused) -> None:
    if isinstance(outcome, Refused):
        raise Unprocessable(outcome.reason)
    if isinstance(outcome, Dropped):
        raise Discarded(outcome.reason)
