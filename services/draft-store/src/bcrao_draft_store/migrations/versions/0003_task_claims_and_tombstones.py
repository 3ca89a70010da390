"""task claims (running status), tombstones, and the quota lock function

Revision ID: 0003_task_claims_and_tombstones
Revises: 0002

- `generation_tasks.status` gains `running` (the generator claimed the task), with the claim's time
  and attempt id, and partial indexes the sweeper scans (queued by age, running by claim age).
- `task_tombstones`: the task ids whose draft the user deleted, or whose campaign was deleted.
  A redelivered DraftGenerated for such a task is dropped instead of storing the draft again.
  Tombstones of a campaign deleted while a task was in flight are also an outbox: the sweeper
  publishes their GenerationFailed (`announced_at` is set once it is on Kafka).
- `draft_store_lock_quota(user, period)`: creates the account on first sight, locks its row and
  then counts the month's units. It is a VOLATILE plpgsql function so that the count runs in its
  own statement, with a snapshot taken after the lock was granted: in a single SQL statement the
  snapshot predates the wait and would miss the units the lock holder just committed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_task_claims_and_tombstones"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_QUOTA = """
CREATE OR REPLACE FUNCTION draft_store_lock_quota(p_user_id text, p_period_start timestamptz)
RETURNS TABLE (plan text, used bigint, spend numeric)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO accounts (user_id, plan, created_at, updated_at)
    VALUES (p_user_id, 'trial', now(), now())
    ON CONFLICT (user_id) DO NOTHING;
    SELECT a.plan INTO plan FROM accounts a WHERE a.user_id = p_user_id FOR UPDATE;
    SELECT count(*) FILTER (WHERE u.state IN ('reserved', 'used')),
           coalesce(sum(u.cost_usd) FILTER (WHERE u.state = 'used'), 0)
      INTO used, spend
      FROM usage_ledger u
     WHERE u.user_id = p_user_id AND u.period_start = p_period_start;
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    op.drop_constraint(op.f("ck_generation_tasks_status"), "generation_tasks", type_="check")
    op.create_check_constraint(
        op.f("ck_generation_tasks_status"),
        "generation_tasks",
        "status IN ('queued', 'running', 'completed', 'failed')",
    )
    op.add_column(
        "generation_tasks", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("generation_tasks", sa.Column("attempt_id", sa.Uuid(), nullable=True))
    op.create_index(
        "ix_generation_tasks_queued_created_at",
        "generation_tasks",
        ["created_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "ix_generation_tasks_running_claimed_at",
        "generation_tasks",
        ["claimed_at"],
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "task_tombstones",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("in_flight", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "reason IN ('draft_deleted', 'campaign_deleted')",
            name=op.f("ck_task_tombstones_reason"),
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_tombstones")),
    )
    op.create_index(
        "ix_task_tombstones_unannounced",
        "task_tombstones",
        ["created_at"],
        postgresql_where=sa.text("in_flight AND announced_at IS NULL"),
    )
    op.execute(LOCK_QUOTA)
    # The usage count filters on (user_id, period_start) and aggregates state and cost: an index
    # that covers them keeps the count an index-only scan however long the month's ledger is.
    op.create_index(
        "ix_usage_ledger_user_id_period_start_cover",
        "usage_ledger",
        ["user_id", "period_start"],
        postgresql_include=["state", "cost_usd"],
    )


def downgrade() -> None:
    op.drop_index("ix_usage_ledger_user_id_period_start_cover", table_name="usage_ledger")
    op.execute("DROP FUNCTION IF EXISTS draft_store_lock_quota(text, timestamptz)")
    op.drop_index("ix_task_tombstones_unannounced", table_name="task_tombstones")
    op.drop_table("task_tombstones")
    op.drop_index("ix_generation_tasks_running_claimed_at", table_name="generation_tasks")
    op.drop_index("ix_generation_tasks_queued_created_at", table_name="generation_tasks")
    op.drop_column("generation_tasks", "attempt_id")
    op.drop_column("generation_tasks", "claimed_at")
    op.execute("UPDATE generation_tasks SET status = 'queued' WHERE status = 'running'")
    op.drop_constraint(op.f("ck_generation_tasks_status"), "generation_tasks", type_="check")
    op.create_check_constraint(
        op.f("ck_generation_tasks_status"),
        "generation_tasks",
        "status IN ('queued', 'completed', 'failed')",
    )
