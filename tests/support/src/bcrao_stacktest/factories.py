"""Builders of events, drafts and draft-store settings for the draft-store and gateway suites."""

from __future__ import annotations

import uuid
from typing import Any

from bcrao_contracts import demo
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.events import DraftGenerated, GenerationFailed
from bcrao_contracts.models import GeneratedDraft, Scores, ValidationReport
from bcrao_draft_store.config import Settings

CAMPAIGN = {
    "name": "Invoicely validation",
    "product_context": "An invoicing app for solo freelancers with payment reminders.",
    "keywords": ["invoicing", "late payments", "freelance clients", "reminders", "cash flow"],
    "target_subreddits": ["r/SaaS", "freelance", "selfhosted"],
}


def generated_draft(
    user_id: str, campaign_id: uuid.UUID, *, cost: float = 0.01, **overrides: Any
) -> GeneratedDraft:
    values: dict[str, Any] = {
        "campaign_id": campaign_id,
        "user_id": user_id,
        "subreddit": "SaaS",
        "archetype": Archetype.JOURNEY,
        "account_status": AccountStatus.ESTABLISHED,
        "title": "Three months of chasing invoices",
        "body": "I kept losing track of who owed me what.\n\nHere is what I learned.",
        "scores": Scores(
            vulnerability=5,
            rhythm_match=7,
            formality_match=6,
            burstiness=4,
            jargon_penalty=0,
            link_penalty=0,
            overall=6.2,
        ),
        "validation": ValidationReport(link_count=0, needs_review=True),
        "model_used": "offline-composer",
        "token_count": 321,
        "cost_usd": cost,
        "generation_params": demo.generation_params(
            campaign_id, subreddit="SaaS", archetype=Archetype.JOURNEY, context="chasing invoices"
        ),
        "warnings": ["no profile"],
    }
    values.update(overrides)
    return GeneratedDraft(**values)


def draft_generated(
    task_id: uuid.UUID, user_id: str, campaign_id: uuid.UUID, *, seq: int = 9, cost: float = 0.01
) -> DraftGenerated:
    return DraftGenerated(
        task_id=task_id,
        producer="generator",
        seq=seq,
        draft=generated_draft(user_id, campaign_id, cost=cost),
    )


def generation_failed(
    task_id: uuid.UUID, user_id: str, campaign_id: uuid.UUID, *, seq: int | None = 4
) -> GenerationFailed:
    return GenerationFailed(
        task_id=task_id,
        producer="generator",
        seq=seq,
        user_id=user_id,
        campaign_id=campaign_id,
        code="LLM_UNAVAILABLE",
        message="the model did not answer",
        details={"attempts": 3},
        retryable=True,
    )


SERVICE_TOKEN = "test-service-token-0123456789"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test: a unique topic prefix and short retry delays."""
    values: dict[str, Any] = {
        "service_token": SERVICE_TOKEN,
        "database_url": database_url,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "topic_prefix": f"t{uuid.uuid4().hex[:10]}.",
        "retry_base_delay": 0.05,
        "retry_max_delay": 0.2,
        "retry_attempts": 3,
    }
    values.update(overrides)
    return Settings(**values)
