"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 22:01:16.504091
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("plan IN ('trial', 'starter', 'growth')", name=op.f("ck_accounts_plan")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("product_context", sa.Text(), nullable=False),
        sa.Column("product_url", sa.Text(), nullable=True),
        sa.Column("keywords", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("target_subreddits", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'archived')", name=op.f("ck_campaigns_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        "ix_campaigns_user_id_created_at", "campaigns", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "usage_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('reserved', 'used', 'released')", name=op.f("ck_usage_ledger_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_ledger")),
        sa.UniqueConstraint("task_id", name=op.f("uq_usage_ledger_task_id")),
    )
    op.create_index(
        "ix_usage_ledger_user_id_period_start_state",
        "usage_ledger",
        ["user_id", "period_start", "state"],
        unique=False,
    )
    op.create_table(
        "blacklist_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("subreddit", sa.String(length=30), nullable=True),
        sa.Column("pattern", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_blacklist_entries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_entries")),
    )
    op.create_index(
        op.f("ix_blacklist_entries_campaign_id"), "blacklist_entries", ["campaign_id"], unique=False
    )
    op.create_table(
        "community_profiles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("subreddit", sa.String(length=30), nullable=False),
        sa.Column("isc_score", sa.Float(), nullable=False),
        sa.Column("avg_sentence_length", sa.Float(), nullable=False),
        sa.Column("dominant_tone", sa.String(length=20), nullable=False),
        sa.Column("formality_level", sa.Float(), nullable=False),
        sa.Column("top_success_hooks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("example_posts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("style_guide", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "archetype_distribution", postgresql.JSONB(astext_type=sa.Text()), nullable=False
        ),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("analyzed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_community_profiles_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_profiles")),
        sa.UniqueConstraint(
            "campaign_id", "subreddit", name=op.f("uq_community_profiles_campaign_id")
        ),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("parent_draft_id", sa.Uuid(), nullable=True),
        sa.Column("subreddit", sa.String(length=30), nullable=False),
        sa.Column("archetype", sa.String(length=30), nullable=False),
        sa.Column("account_status", sa.String(length=30), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("user_edits", sa.Text(), nullable=True),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("validation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("generation_params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("warnings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("model_used", sa.String(length=200), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('generated', 'edited', 'approved', 'posted', 'discarded')",
            name=op.f("ck_drafts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_drafts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_draft_id"],
            ["drafts.id"],
            name=op.f("fk_drafts_parent_draft_id_drafts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("task_id", name=op.f("uq_drafts_task_id")),
    )
    op.create_index(
        "ix_drafts_campaign_id_created_at", "drafts", ["campaign_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_drafts_user_id"), "drafts", ["user_id"], unique=False)
    op.create_table(
        "generation_tasks",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("request", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("terminal_seq", sa.Integer(), nullable=True),
        sa.Column("draft_id", sa.Uuid(), nullable=True),
        sa.Column("error_code", sa.String(length=50), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('generate', 'regenerate')", name=op.f("ck_generation_tasks_kind")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'completed', 'failed')", name=op.f("ck_generation_tasks_status")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_generation_tasks_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name=op.f("fk_generation_tasks_draft_id_drafts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_generation_tasks")),
    )
    op.create_index(
        op.f("ix_generation_tasks_campaign_id"), "generation_tasks", ["campaign_id"], unique=False
    )
    op.create_index(
        op.f("ix_generation_tasks_user_id"), "generation_tasks", ["user_id"], unique=False
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_generation_tasks_user_id"), table_name="generation_tasks")
    op.drop_index(op.f("ix_generation_tasks_campaign_id"), table_name="generation_tasks")
    op.drop_table("generation_tasks")
    op.drop_index(op.f("ix_drafts_user_id"), table_name="drafts")
    op.drop_index("ix_drafts_campaign_id_created_at", table_name="drafts")
    op.drop_table("drafts")
    op.drop_table("community_profiles")
    op.drop_index(op.f("ix_blacklist_entries_campaign_id"), table_name="blacklist_entries")
    op.drop_table("blacklist_entries")
    op.drop_index("ix_usage_ledger_user_id_period_start_state", table_name="usage_ledger")
    op.drop_table("usage_ledger")
    op.drop_index("ix_campaigns_user_id_created_at", table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_table("accounts")
