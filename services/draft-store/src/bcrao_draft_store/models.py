"""SQLAlchemy 2 typed models: the tables draft-store owns."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def _updated() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("plan IN ('trial', 'starter', 'growth')", name="plan"),)

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    plan: Mapped[str] = mapped_column(String(20), default="trial")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_user_id_created_at", "user_id", "created_at"),
        CheckConstraint("status IN ('active', 'paused', 'archived')", name="status"),
        CheckConstraint("humanizer_level IN ('off', 'light', 'casual')", name="humanizer_level"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    product_context: Mapped[str] = mapped_column(Text)
    product_url: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSONB)
    target_subreddits: Mapped[list[str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="active")
    humanizer_level: Mapped[str] = mapped_column(
        String(10), default="light", server_default="light"
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class CommunityProfile(Base):
    __tablename__ = "community_profiles"
    __table_args__ = (UniqueConstraint("campaign_id", "subreddit"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    subreddit: Mapped[str] = mapped_column(String(30))
    isc_score: Mapped[float] = mapped_column(Float)
    avg_sentence_length: Mapped[float] = mapped_column(Float)
    dominant_tone: Mapped[str] = mapped_column(String(20))
    formality_level: Mapped[float] = mapped_column(Float)
    top_success_hooks: Mapped[list[str]] = mapped_column(JSONB, default=list)
    example_posts: Mapped[list[str]] = mapped_column(JSONB, default=list)
    style_guide: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    archetype_distribution: Mapped[dict[str, float]] = mapped_column(JSONB, default=dict)
    sample_size: Mapped[int] = mapped_column(Integer, default=0)
    analyzed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The community's structured posting rules (bcrao_contracts.requirements), or None.
    requirements: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class BlacklistEntry(Base):
    __tablename__ = "blacklist_entries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    subreddit: Mapped[str | None] = mapped_column(String(30))
    pattern: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = _created()


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_campaign_id_created_at", "campaign_id", "created_at"),
        CheckConstraint(
            "status IN ('generated', 'edited', 'approved', 'posted', 'discarded')", name="status"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    task_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    parent_draft_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="SET NULL")
    )
    subreddit: Mapped[str] = mapped_column(String(30))
    archetype: Mapped[str] = mapped_column(String(30))
    account_status: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    user_edits: Mapped[str | None] = mapped_column(Text)
    # The user's title (None: the generated one stands) and the check of the edited text.
    user_title: Mapped[str | None] = mapped_column(Text)
    edit_report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    scores: Mapped[dict[str, Any]] = mapped_column(JSONB)
    validation: Mapped[dict[str, Any]] = mapped_column(JSONB)
    generation_params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSONB, default=list)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # The post flair (the generator's pick where the community requires one; the user's after).
    flair: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="generated")
    model_used: Mapped[str] = mapped_column(String(200))
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class GenerationTask(Base):
    __tablename__ = "generation_tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('generate', 'regenerate')", name="kind"),
        CheckConstraint("status IN ('queued', 'running', 'completed', 'failed')", name="status"),
        Index(
            "ix_generation_tasks_queued_created_at",
            "created_at",
            postgresql_where=text("status = 'queued'"),
        ),
        Index(
            "ix_generation_tasks_running_claimed_at",
            "claimed_at",
            postgresql_where=text("status = 'running'"),
        ),
        # One task per user and Idempotency-Key (ADR 0010); tasks without a key are not indexed.
        Index(
            "uq_generation_tasks_user_idempotency_key",
            "user_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    terminal_seq: Mapped[int | None] = mapped_column(Integer)
    draft_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))
    error_code: Mapped[str | None] = mapped_column(String(50))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Set by the generator's claim (POST /internal/tasks/{id}/claim); the sweeper ends a task
    # claimed too long ago. A redelivery re-claims it, moving both forward.
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column()
    # The client's Idempotency-Key and the sha256 (hex) of what it asked (endpoint, target,
    # body): a retry with the key answers this task (ADR 0010). Cleared when the gateway
    # releases the task after a failed publish, so that retry opens a new one.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class TaskTombstone(Base):
    """A task whose draft must never be stored (again): the user deleted the draft, or the
    campaign. Only ids are kept, so deleting a campaign still removes the user's content.

    `in_flight` marks a task that was queued or running when its campaign was deleted: it was
    failed and refunded then, and its GenerationFailed is published by the sweeper from here
    (`announced_at` set once Kafka acknowledged it), so a crash cannot lose the announcement.
    """

    __tablename__ = "task_tombstones"
    __table_args__ = (
        CheckConstraint("reason IN ('draft_deleted', 'campaign_deleted')", name="reason"),
        Index(
            "ix_task_tombstones_unannounced",
            "created_at",
            postgresql_where=text("in_flight AND announced_at IS NULL"),
        ),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[uuid.UUID] = mapped_column()
    reason: Mapped[str] = mapped_column(String(30))
    in_flight: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()


class UsageUnit(Base):
    """One quota unit per task; never deleted, so deleting a campaign or a draft refunds nothing."""

    __tablename__ = "usage_ledger"
    __table_args__ = (
        Index("ix_usage_ledger_user_id_period_start_state", "user_id", "period_start", "state"),
        Index(
            "ix_usage_ledger_user_id_period_start_cover",
            "user_id",
            "period_start",
            postgresql_include=["state", "cost_usd"],
        ),
        CheckConstraint("state IN ('reserved', 'used', 'released')", name="state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default="reserved")
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class DraftHistoryEntry(Base):
    """One status change or saved edit of a draft; `id` orders the entries of one transaction."""

    __tablename__ = "draft_history"
    __table_args__ = (
        Index("ix_draft_history_draft_id_id", "draft_id", "id"),
        CheckConstraint("action IN ('status_changed', 'edited')", name="action"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    draft_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    confirmed_needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # The labels of the rules the text failed when this entry was written.
    failed_rules: Mapped[list[str]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    # An edit that changed the post flair: {"before": ..., "after": ...}.
    flair_change: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _created()
