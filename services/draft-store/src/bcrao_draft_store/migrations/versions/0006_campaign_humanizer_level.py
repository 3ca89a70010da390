"""the humanizer level of a campaign (off, light, casual; light by default)

Revision ID: 0006_campaign_humanizer_level
Revises: 0005_rule_verdicts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_campaign_humanizer_level"
down_revision: str | None = "0005_rule_verdicts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Defaulted on the server: existing rows read 'light' (the level drafts already used), and
    # a draft-store before this revision, which does not name the column, keeps inserting.
    op.add_column(
        "campaigns",
        sa.Column("humanizer_level", sa.String(length=10), server_default="light", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_campaigns_humanizer_level"),
        "campaigns",
        "humanizer_level IN ('off', 'light', 'casual')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_campaigns_humanizer_level"), "campaigns", type_="check")
    op.drop_column("campaigns", "humanizer_level")
