"""Opening generation tasks: ownership, campaign state, quota, and the GenerateRequested snapshot.

Decisions (DOMAIN.md is silent on these):
- Only `active` campaigns generate; `paused` and `archived` answer 409 CONFLICT.
- A new generation's subreddit must be one of the campaign's target subreddits (422 otherwise,
  compared case-insensitively, stored in the campaign's spelling). Regenerations keep the
  parent's subreddit even if it was removed from the targets since.
- Every refusal happens before the quota unit is reserved, so refusals cost nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from bcrao_contracts import api
from bcrao_contracts.enums import AccountStatus, Archetype, CampaignStatus, TaskStatus
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.models import CONTEXT_MAX
from sqlalchemy.ext.asyncio import AsyncSession

from . import mapping, models
from . import repository as repo
from .errors import Conflict, InvalidInput, NotFound

GATEWAY = "api-gateway"  # the gateway publishes the event exactly as built here


def canonical_subreddit(campaign: models.Campaign, subreddit: str) -> str | None:
    for target in campaign.target_subreddits:
        if target.lower() == subreddit.lower():
            return target
    return None


async def _active_campaign(
    session: AsyncSession, user_id: str, campaign_id: UUID
) -> models.Campaign:
    campaign = await repo.get_campaign(session, user_id, campaign_id)
    if campaign is None:
        raise NotFound("campaign not found")
    if campaign.status != CampaignStatus.ACTIVE.value:
        raise Conflict(
            f"the campaign is {campaign.status}; only active campaigns generate drafts",
            {"campaign_status": campaign.status},
        )
    return campaign


async def _open(
    session: AsyncSession,
    *,
    user_id: str,
    campaign: models.Campaign,
    kind: str,
    fields: dict[str, Any],
    now: datetime,
) -> GenerateRequested:
    subreddit = fields["subreddit"]
    profile = await repo.get_profile(session, campaign.id, subreddit)
    blacklist = await repo.applicable_blacklist(session, campaign.id, subreddit)
    plan = await repo.lock_account(session, user_id)
    event = GenerateRequested(
        task_id=uuid4(),
        producer=GATEWAY,
        user_id=user_id,
        plan=plan,
        campaign=mapping.campaign_snapshot(campaign),
        profile=mapping.profile_snapshot(profile) if profile is not None else None,
        blacklist=[mapping.blacklist_out(entry) for entry in blacklist],
        **fields,
    )
    await repo.reserve_unit(
        session,
        user_id=user_id,
        plan=plan,
        task_id=event.task_id,
        campaign_id=campaign.id,
        kind=kind,
        request=event.model_dump(mode="json"),
        now=now,
    )
    return event


async def open_generation(
    session: AsyncSession,
    user_id: str,
    campaign_id: UUID,
    request: api.GenerateRequest,
    now: datetime,
) -> GenerateRequested:
    campaign = await _active_campaign(session, user_id, campaign_id)
    subreddit = canonical_subreddit(campaign, request.subreddit)
    if subreddit is None:
        raise InvalidInput(
            f"r/{request.subreddit} is not a target subreddit of this campaign",
            {"subreddit": request.subreddit, "target_subreddits": list(campaign.target_subreddits)},
        )
    fields = {
        "subreddit": subreddit,
        "archetype": request.archetype,
        "account_status": request.account_status,
        "context": request.context,
    }
    return await _open(
        session, user_id=user_id, campaign=campaign, kind="generate", fields=fields, now=now
    )


async def _parent_fields(session: AsyncSession, parent: models.Draft) -> dict[str, Any]:
    """The parent's parameters: its generation_params, then its task's request, then its columns."""
    params = parent.generation_params or {}
    origin = await repo.get_task(session, parent.task_id)
    asked = origin.request if origin is not None else {}

    def pick(key: str, default: Any) -> Any:
        for source in (params, asked):
            if source.get(key) not in (None, ""):
                return source[key]
        return default

    return {
        "subreddit": pick("subreddit", parent.subreddit),
        "archetype": Archetype(pick("archetype", parent.archetype)),
        "account_status": AccountStatus(pick("account_status", parent.account_status)),
        "context": str(pick("context", ""))[:CONTEXT_MAX],
    }


async def open_regeneration(
    session: AsyncSession,
    user_id: str,
    draft_id: UUID,
    request: api.RegenerateRequest,
    now: datetime,
) -> GenerateRequested:
    """This round's feedback only (no accumulation); the profile is re-read as it is now."""
    parent = await repo.get_draft(session, user_id, draft_id)
    if parent is None:
        raise NotFound("draft not found")
    campaign = await _active_campaign(session, user_id, parent.campaign_id)
    fields = {
        **await _parent_fields(session, parent),
        "parent_draft_id": parent.id,
        "feedback": request.feedback or None,
    }
    return await _open(
        session, user_id=user_id, campaign=campaign, kind="regenerate", fields=fields, now=now
    )


async def release_task(
    session: AsyncSession, user_id: str, task_id: UUID, *, code: str, message: str
) -> None:
    """Give a queued task's unit back (the gateway could not publish it). Idempotent."""
    task = await repo.get_task(session, task_id, user_id=user_id, lock=True)
    if task is None:
        raise NotFound("task not found")
    if task.status == TaskStatus.COMPLETED.value:
        raise Conflict(
            "the task already produced a draft",
            {"from": task.status, "to": TaskStatus.FAILED.value},
        )
    if task.status == TaskStatus.QUEUED.value:
        await repo.fail_task(session, task_id, code=code, message=message, details={}, seq=None)
        await repo.mark_unit(session, task_id, "released")


async def task_state(session: AsyncSession, user_id: str, task_id: UUID) -> api.TaskState:
    task = await repo.get_task(session, task_id, user_id=user_id)
    if task is None:
        raise NotFound("task not found")
    draft = await repo.get_draft_by_task(session, task_id) if task.draft_id else None
    return mapping.task_state(task, draft)
