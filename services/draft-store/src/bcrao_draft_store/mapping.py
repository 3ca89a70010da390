"""Rows to contracts: how stored records look to the gateway and in events. No I/O.

Everything mapped here was read from PostgreSQL (or passed a contract's check on its way in):
its text cannot hold what a contract refuses as unstorable (NUL, a lone surrogate; neither
`text` nor `jsonb` can store them), so each `parse` skips that walk over every string
(`FROM_DB`). It was most of the cost of `draft_out`, run for every stored draft.
"""

from __future__ import annotations

from typing import Any

from bcrao_contracts import api
from bcrao_contracts import models as contracts
from bcrao_contracts.enums import DraftStatus
from bcrao_contracts.history import DraftHistory, HistoryEntry
from bcrao_contracts.models import isc_tier
from bcrao_contracts.versioning import versioned

from . import models

FROM_DB = True  # `text_checked` of every parse below: the rows' text is storable already


def campaign_out(row: models.Campaign) -> api.Campaign:
    return versioned(_campaign(row))


def _campaign(row: models.Campaign) -> api.Campaign:
    return api.Campaign(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        description=row.description,
        product_context=row.product_context,
        product_url=row.product_url,
        keywords=list(row.keywords),
        target_subreddits=list(row.target_subreddits),
        status=row.status,
        humanizer_level=row.humanizer_level,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def campaign_snapshot(row: models.Campaign) -> contracts.CampaignSnapshot:
    return contracts.CampaignSnapshot.parse(
        {
            "id": row.id,
            "name": row.name,
            "product_context": row.product_context,
            "product_url": row.product_url,
            "keywords": list(row.keywords),
        },
        text_checked=FROM_DB,
    )


def _profile_fields(row: models.CommunityProfile) -> dict[str, Any]:
    return {
        "subreddit": row.subreddit,
        "isc_score": row.isc_score,
        "avg_sentence_length": row.avg_sentence_length,
        "dominant_tone": row.dominant_tone,
        "formality_level": row.formality_level,
        "top_success_hooks": list(row.top_success_hooks),
        "example_posts": list(row.example_posts),
        "style_guide": row.style_guide,
        "archetype_distribution": dict(row.archetype_distribution),
        "sample_size": row.sample_size,
        "analyzed_at": row.analyzed_at,
        "requirements": row.requirements,
    }


def profile_snapshot(row: models.CommunityProfile) -> contracts.CommunityProfile:
    return contracts.CommunityProfile.parse(_profile_fields(row), text_checked=FROM_DB)


def profile_out(row: models.CommunityProfile) -> api.Profile:
    return versioned(_profile(row))


def _profile(row: models.CommunityProfile) -> api.Profile:
    return api.Profile.parse(
        {
            **_profile_fields(row),
            "campaign_id": row.campaign_id,
            "isc_tier": isc_tier(row.isc_score),
            "updated_at": row.updated_at,
        },
        text_checked=FROM_DB,
    )


def profile_columns(profile: api.ProfileIn) -> dict[str, Any]:
    data = profile.model_dump(mode="json")
    data["analyzed_at"] = profile.analyzed_at
    return data


def blacklist_versioned(row: models.BlacklistEntry) -> api.BlacklistEntryOut:
    """An entry as the API shows it, with its version (events carry entries without one)."""
    entry = api.BlacklistEntryOut.parse(blacklist_out(row).model_dump(mode="json"))
    return versioned(entry)


def blacklist_out(row: models.BlacklistEntry) -> contracts.BlacklistEntry:
    return contracts.BlacklistEntry.parse(
        {
            "id": row.id,
            "pattern": row.pattern,
            "kind": row.kind,
            "description": row.description,
            "category": row.category,
            "severity": row.severity,
            "campaign_id": row.campaign_id,
            "subreddit": row.subreddit,
            "source": row.source,
        },
        text_checked=FROM_DB,
    )


def draft_out(row: models.Draft) -> contracts.Draft:
    return versioned(_draft(row))


def _draft(row: models.Draft) -> contracts.Draft:
    return contracts.Draft.parse(
        {
            "id": row.id,
            "task_id": row.task_id,
            "campaign_id": row.campaign_id,
            "user_id": row.user_id,
            "parent_draft_id": row.parent_draft_id,
            "subreddit": row.subreddit,
            "archetype": row.archetype,
            "account_status": row.account_status,
            "title": row.title,
            "body": row.body,
            "scores": row.scores,
            "validation": row.validation,
            "model_used": row.model_used,
            "token_count": row.token_count,
            "cost_usd": float(row.cost_usd),
            "generation_params": row.generation_params,
            "warnings": list(row.warnings),
            "status": row.status,
            "user_edits": row.user_edits,
            "user_title": row.user_title,
            "edit_report": row.edit_report,
            "needs_review": row.needs_review,
            "flair": row.flair,
            "feedback": (row.generation_params or {}).get("feedback"),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        },
        text_checked=FROM_DB,
    )


def draft_columns(draft: contracts.GeneratedDraft) -> dict[str, Any]:
    """Columns of a new draft row. JSON columns hold the contract's models: the batch's rows are
    serialised by pydantic in one pass (repository.batches), into the same JSON form that
    `model_dump(mode="json")` gives, without building it as Python objects first."""
    return {
        "scores": draft.scores,
        "validation": draft.validation,
        "generation_params": draft.generation_params,
        "warnings": draft.warnings,
        "campaign_id": draft.campaign_id,
        "user_id": draft.user_id,
        "parent_draft_id": draft.parent_draft_id,
        "subreddit": draft.subreddit,
        "archetype": draft.archetype.value,
        "account_status": draft.account_status.value,
        "title": draft.title,
        "body": draft.body,
        "model_used": draft.model_used,
        "token_count": draft.token_count,
        "cost_usd": draft.cost_usd,
        "needs_review": draft.validation.needs_review,
        "flair": draft.flair,
    }


def in_flight_task(task: models.GenerationTask) -> api.InFlightTask:
    request = task.request or {}
    return api.InFlightTask.parse(
        {
            "task_id": task.task_id,
            "campaign_id": task.campaign_id,
            "status": task.status,
            "kind": task.kind,
            "subreddit": request.get("subreddit"),
            "archetype": request.get("archetype"),
            "parent_draft_id": request.get("parent_draft_id"),
            "created_at": task.created_at,
        }
    )


def task_state(task: models.GenerationTask, draft: models.Draft | None) -> api.TaskState:
    return api.TaskState(
        task_id=task.task_id,
        campaign_id=task.campaign_id,
        user_id=task.user_id,
        status=task.status,
        terminal_seq=task.terminal_seq,
        draft=draft_out(draft) if draft is not None else None,
        error_code=task.error_code,
        error_message=task.error_message,
        error_details=task.error_details or {},
    )


def history_entry(row: models.DraftHistoryEntry) -> HistoryEntry:
    return HistoryEntry.parse(
        {
            "at": row.created_at,
            "actor": row.user_id,
            "action": row.action,
            "from_status": row.from_status,
            "to_status": row.to_status,
            "changes": row.changes,
            "flair_change": row.flair_change,
            "confirmed_needs_review": row.confirmed_needs_review,
            "failed_rules": list(row.failed_rules or []),
        },
        text_checked=FROM_DB,
    )


def draft_history(
    draft: models.Draft,
    recorded: list[models.DraftHistoryEntry],
    children: list[models.Draft],
) -> DraftHistory:
    """The recorded entries plus two derived from the drafts themselves: this draft's generation
    (first) and every regeneration made from it (at the time the new draft was stored)."""
    generated = HistoryEntry(
        at=draft.created_at,
        actor=draft.user_id,
        action="generated",
        to_status=DraftStatus.GENERATED,
        related_draft_id=draft.parent_draft_id,
        feedback=(draft.generation_params or {}).get("feedback"),
        failed_rules=[
            v.get("label", v.get("rule", "?"))
            for v in (draft.validation or {}).get("rule_verdicts", [])
            if not v.get("passed", True)
        ],
    )
    regenerated = [
        HistoryEntry(
            at=child.created_at,
            actor=child.user_id,
            action="regenerated",
            related_draft_id=child.id,
            feedback=(child.generation_params or {}).get("feedback"),
        )
        for child in children
    ]
    rest = sorted(
        [*(history_entry(r) for r in recorded), *regenerated], key=lambda entry: entry.at
    )  # stable: recorded entries keep their order within one transaction
    return DraftHistory(
        draft_id=draft.id, parent_draft_id=draft.parent_draft_id, entries=[generated, *rest]
    )
