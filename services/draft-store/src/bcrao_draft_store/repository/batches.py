"""Multi-row SQL of the consumers: a batch of DraftGenerated or GenerationFailed per statement.

Rows travel as one JSON array (`jsonb_to_recordset`), so each statement has one text whatever
the batch size and stays prepared on its connection.

DraftGenerated takes two statements: `lock_tasks` first takes the tasks' row locks, then
`store_drafts` checks the tombstones and writes. The order matters: deleting a draft (or a
campaign) locks the task row before it writes the tombstone, and a statement's snapshot is taken
when it starts, so only a statement that starts after the lock was granted is sure to see a
tombstone committed by whoever held it. GenerationFailed is one statement: its UPDATE re-checks
each row's status after waiting for its lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import TypeAdapter
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Draft
from .driver import driver

_LOCK_TASKS = """
SELECT task_id, user_id, campaign_id, status, draft_id
  FROM generation_tasks
 WHERE task_id = ANY(%(ids)s::uuid[])
 ORDER BY task_id
   FOR UPDATE
"""

# Every column of drafts but its timestamps, from the model: a column added to the model is
# inserted too (or, NOT NULL without a default, fails loudly) instead of being dropped silently.
_INSERTED = [c for c in Draft.__table__.columns if c.name not in ("created_at", "updated_at")]
_DIALECT = postgresql.dialect()
DRAFT_COLUMNS = ", ".join(
    [f"{c.name} {c.type.compile(dialect=_DIALECT)}" for c in _INSERTED] + ["seq int"]
)
_INSERT_COLUMNS = ", ".join(c.name for c in _INSERTED)
_VALUES = ", ".join(
    "(SELECT d.id FROM drafts d WHERE d.id = l.parent_draft_id)"
    if c.name == "parent_draft_id"
    else f"l.{c.name}"
    for c in _INSERTED
)


# The rows as one JSON array, serialised by pydantic (the JSON columns are contract models):
# one pass in Rust instead of `model_dump` per draft and then `json.dumps` of the whole batch.
_ROWS = TypeAdapter(list[dict[str, Any]])


def draft_row(values: dict[str, Any], *, task_id: UUID, seq: int) -> dict[str, Any]:
    """A drafts row for `store_drafts` (serialised to JSON there): the given values, the
    model's defaults for the rest (a new id among them), and the event's seq for its task."""
    row: dict[str, Any] = {"seq": seq}
    for column in _INSERTED:
        if column.name == "task_id":
            value: Any = task_id
        elif column.name in values:
            value = values[column.name]
        elif column.default is not None and column.default.is_scalar:
            value = column.default.arg
        elif column.default is not None and column.default.is_callable:
            value = column.default.arg(None)
        else:
            value = None
        row[column.name] = str(value) if isinstance(value, UUID | Decimal) else value
    return row


# `kept` reads the statement's snapshot, taken before `ins` ran: it holds exactly the drafts
# stored by earlier deliveries. A parent deleted meanwhile becomes NULL, keeping the new draft.
_STORE_DRAFTS = f"""
WITH v AS (SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS v({DRAFT_COLUMNS})),
dead AS (
    SELECT tb.task_id, tb.reason FROM task_tombstones tb
     WHERE tb.task_id IN (SELECT task_id FROM v) OR tb.task_id = ANY(%(missing)s::uuid[])
),
live AS (SELECT v.* FROM v WHERE v.task_id NOT IN (SELECT task_id FROM dead)),
ins AS (
    INSERT INTO drafts ({_INSERT_COLUMNS}, created_at, updated_at)
    SELECT {_VALUES}, now(), now() FROM live l
    ON CONFLICT (task_id) DO NOTHING
    RETURNING *
),
kept AS (SELECT d.* FROM drafts d WHERE d.task_id IN (SELECT task_id FROM live)),
final AS (
    SELECT ins.task_id, ins.id, ins.cost_usd, to_jsonb(ins) AS draft, true AS inserted FROM ins
    UNION ALL
    SELECT kept.task_id, kept.id, kept.cost_usd, to_jsonb(kept), false FROM kept
),
completed AS (
    UPDATE generation_tasks t
       SET status = 'completed', terminal_seq = live.seq, draft_id = final.id,
           error_code = NULL, error_message = NULL, error_details = NULL, updated_at = now()
      FROM final JOIN live ON live.task_id = final.task_id
     WHERE t.task_id = final.task_id
       AND (t.status <> 'completed' OR t.draft_id IS DISTINCT FROM final.id)
    RETURNING t.task_id
),
used AS (
    UPDATE usage_ledger u SET state = 'used', cost_usd = final.cost_usd, updated_at = now()
      FROM final
     WHERE u.task_id = final.task_id AND (u.state <> 'used' OR u.cost_usd <> final.cost_usd)
    RETURNING u.task_id
)
SELECT final.task_id, final.draft, final.inserted, NULL AS dropped FROM final
UNION ALL
SELECT dead.task_id, NULL, false, dead.reason FROM dead
"""  # noqa: S608  (column names of the model are formatted in; values are parameters)

# Only tasks still queued or running fail: a draft already stored wins, a repeat is a no-op.
_FAIL_TASKS = """
WITH v AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS v(task_id uuid, seq int, code text, message text, details jsonb)
),
failed AS (
    UPDATE generation_tasks t
       SET status = 'failed', terminal_seq = v.seq, error_code = v.code,
           error_message = v.message, error_details = v.details, updated_at = now()
      FROM v
     WHERE t.task_id = v.task_id AND t.status IN ('queued', 'running')
    RETURNING t.task_id
),
released AS (
    UPDATE usage_ledger u SET state = 'released', updated_at = now()
      FROM failed
     WHERE u.task_id = failed.task_id AND u.state = 'reserved'
    RETURNING u.task_id
)
SELECT failed.task_id, 'failed' AS outcome FROM failed
UNION ALL
SELECT t.task_id, 'unchanged' FROM generation_tasks t
 WHERE t.task_id IN (SELECT task_id FROM v) AND t.task_id NOT IN (SELECT task_id FROM failed)
UNION ALL
SELECT tb.task_id, tb.reason FROM task_tombstones tb
 WHERE tb.task_id IN (SELECT task_id FROM v)
   AND NOT EXISTS (SELECT 1 FROM generation_tasks g WHERE g.task_id = tb.task_id)
"""


@dataclass(frozen=True)
class LockedTask:
    task_id: UUID
    user_id: str
    campaign_id: UUID
    status: str
    draft_id: UUID | None


@dataclass(frozen=True)
class StoredRow:
    draft: dict[str, Any]  # the drafts row as JSON
    inserted: bool


async def lock_tasks(session: AsyncSession, task_ids: Iterable[UUID]) -> dict[UUID, LockedTask]:
    conn = await driver(session)
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_LOCK_TASKS, {"ids": list(task_ids)}, prepare=True)
        return {row["task_id"]: LockedTask(**row) for row in await cursor.fetchall()}


async def store_drafts(
    session: AsyncSession, rows: list[dict[str, Any]], missing: list[UUID]
) -> tuple[dict[UUID, StoredRow], dict[UUID, str]]:
    """Insert the drafts not stored yet, complete their tasks and mark their units used.
    Returns the stored drafts by task id and the tombstoned task ids (of `rows` and `missing`)
    with the tombstone's reason. Call after `lock_tasks` in the same transaction."""
    conn = await driver(session)
    stored: dict[UUID, StoredRow] = {}
    dropped: dict[UUID, str] = {}
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            _STORE_DRAFTS,
            {"rows": Jsonb(rows, dumps=_ROWS.dump_json), "missing": missing},
            prepare=True,
        )
        for row in await cursor.fetchall():
            if row["dropped"] is not None:
                dropped[row["task_id"]] = row["dropped"]
            else:
                stored[row["task_id"]] = StoredRow(row["draft"], row["inserted"])
    return stored, dropped


async def fail_tasks(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[UUID, str]:
    """Fail the queued or running tasks and release their units. Returns each known task id
    with "failed", "unchanged" (already ended), or the reason of its tombstone (no task row)."""
    conn = await driver(session)
    async with conn.cursor() as cursor:
        await cursor.execute(_FAIL_TASKS, {"rows": Jsonb(rows)}, prepare=True)
        return {task_id: outcome for task_id, outcome in await cursor.fetchall()}
