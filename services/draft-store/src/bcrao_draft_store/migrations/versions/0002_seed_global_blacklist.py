"""seed global blacklist entries (source system)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed ids so a downgrade removes exactly these rows and re-running the seed cannot duplicate them.
SEED = [
    (
        UUID("00000000-0000-4000-8000-000000000001"),
        "check out my",
        "literal",
        "Direct invitation to look at your product",
        "Promotional",
        "high",
    ),
    (
        UUID("00000000-0000-4000-8000-000000000002"),
        "use my code",
        "literal",
        "Discount or referral code pitch",
        "Promotional",
        "high",
    ),
    (
        UUID("00000000-0000-4000-8000-000000000003"),
        r"\?utm_",
        "regex",
        "Tracking parameters in links",
        "Link patterns",
        "medium",
    ),
    (
        UUID("00000000-0000-4000-8000-000000000004"),
        "DM me",
        "literal",
        "Moving the conversation to private messages",
        "Spam indicators",
        "medium",
    ),
]

blacklist = sa.table(
    "blacklist_entries",
    sa.column("id", sa.Uuid()),
    sa.column("campaign_id", sa.Uuid()),
    sa.column("subreddit", sa.String()),
    sa.column("pattern", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("description", sa.String()),
    sa.column("category", sa.String()),
    sa.column("severity", sa.String()),
    sa.column("source", sa.String()),
)


def upgrade() -> None:
    op.bulk_insert(
        blacklist,
        [
            {
                "id": entry_id,
                "campaign_id": None,
                "subreddit": None,
                "pattern": pattern,
                "kind": kind,
                "description": description,
                "category": category,
                "severity": severity,
                "source": "system",
            }
            for entry_id, pattern, kind, description, category, severity in SEED
        ],
    )


def downgrade() -> None:
    op.execute(blacklist.delete().where(blacklist.c.id.in_([row[0] for row in SEED])))
