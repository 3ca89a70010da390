"""community requirements on profiles, the flair of drafts, failed rules and flair changes

Revision ID: 0005_rule_verdicts
Revises: 0004_draft_history_and_edit_reports
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_rule_verdicts"
down_revision: str | None = "0004_draft_history_and_edit_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # All four are nullable or defaulted: adding them rewrites no existing row.
    op.add_column(
        "community_profiles",
        sa.Column("requirements", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("drafts", sa.Column("flair", sa.String(length=64), nullable=True))
    op.add_column(
        "draft_history",
        sa.Column(
            "failed_rules",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "draft_history",
        sa.Column("flair_change", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("draft_history", "flair_change")
    op.drop_column("draft_history", "failed_rules")
    op.drop_column("drafts", "flair")
    op.drop_column("community_profiles", "requirements")
