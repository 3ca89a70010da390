"""draft history, the user's title and the edit report

Revision ID: 0004_draft_history_and_edit_reports
Revises: 0003_task_claims_and_tombstones
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_draft_history_and_edit_reports"
down_revision: str | None = "0003_task_claims_and_tombstones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Alembic creates version_num as VARCHAR(32); this revision id is 35 characters, and Alembic
    # writes it after upgrade() in the same transaction, so widening here is enough.
    op.alter_column(
        "alembic_version",
        "version_num",
        type_=sa.String(length=64),
        existing_type=sa.String(length=32),
        existing_nullable=False,
    )
    op.add_column("drafts", sa.Column("user_title", sa.Text(), nullable=True))
    op.add_column(
        "drafts",
        sa.Column("edit_report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.create_table(
        "draft_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("confirmed_needs_review", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "action IN ('status_changed', 'edited')", name=op.f("ck_draft_history_action")
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name=op.f("fk_draft_history_draft_id_drafts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_history")),
    )
    op.create_index("ix_draft_history_draft_id_id", "draft_history", ["draft_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_draft_history_draft_id_id", table_name="draft_history")
    op.drop_table("draft_history")
    op.drop_column("drafts", "edit_report")
    op.drop_column("drafts", "user_title")
    # version_num stays VARCHAR(64): narrowing it gains nothing and the ids below fit either way.
