"""a generation task's Idempotency-Key and the fingerprint of the request that opened it

Revision ID: 0007_task_idempotency_keys
Revises: 0006_campaign_humanizer_level

Both columns are nullable: a task opened without a key (every task before this revision, and
every task a draft-store before it opens) has neither. The unique index is partial, so tasks
without a key cost it nothing; it is the arbiter of `INSERT ... ON CONFLICT` when two openings
with one key race (ADR 0010).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_task_idempotency_keys"
down_revision: str | None = "0006_campaign_humanizer_level"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "generation_tasks", sa.Column("idempotency_key", sa.String(length=255), nullable=True)
    )
    op.add_column(
        "generation_tasks", sa.Column("request_fingerprint", sa.String(length=64), nullable=True)
    )
    op.create_index(
        "uq_generation_tasks_user_idempotency_key",
        "generation_tasks",
        ["user_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_generation_tasks_user_idempotency_key", table_name="generation_tasks")
    op.drop_column("generation_tasks", "request_fingerprint")
    op.drop_column("generation_tasks", "idempotency_key")
