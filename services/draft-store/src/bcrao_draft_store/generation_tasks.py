"""Generation tasks (the `generation_tasks` table) through their life: opening one (ownership,
campaign state, quota, and the GenerateRequested snapshot), the generator's claim, the gateway's
release, and the state a client reads. The SQL is in `repository/`.

Decisions (DOMAIN.md is silent on these):
- Only `active` campaigns generate; `paused` and `archived` answer 409 CONFLICT.
- A new generation's subreddit must be one of the campaign's target subreddits (422 otherwise,
  compared case-insensitively, stored in the campaign's spelling). Regenerations keep the
  parent's subreddit even if it was removed from the targets since.
- Every refusal happens before the quota unit is reserved, so refusals cost nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from bcrao_contracts import api
from bcrao_contracts import models as contracts
from bcrao_contracts.enums import (
    AccountStatus,
    Archetype,
    CampaignStatus,
    HumanizerLevel,
    TaskStatus,
)
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.models import CONTEXT_MAX
from sqlalchemy.ext.asyncio import AsyncSession

from . import mapping
from . import repository as repo
from .domain import next_period_start, period_start, quota_decision
from .errors import Conflict, InvalidInput, NotFound, PlanLimitReached, Unavailable
from .mapping import FROM_DB
from .repository.quota import OpenSnapshot

GATEWAY = "api-gateway"  # the gateway publishes the event exactly as built here


class HasTargets(Protocol):
    @property
    def target_subreddits(self) -> Sequence[str]: ...


def canonical_subreddit(campaign: HasTargets, subreddit: str) -> str | None:
    for target in campaign.target_subreddits:
        if target.lower() == subreddit.lower():
            return target
    return None


def _active_campaign(snapshot: OpenSnapshot, missing: str = "campaign not found") -> dict[str, Any]:
    campaign = snapshot.campaign
    if campaign is None:
        raise NotFound(missing)
    if campaign["status"] != CampaignStatus.ACTIVE.value:
        raise Conflict(
            f"the campaign is {campaign['status']}; only active campaigns generate drafts",
            {"campaign_status": campaign["status"]},
        )
    return campaign


async def _open(
    session: AsyncSession,
    *,
    user_id: str,
    snapshot: OpenSnapshot,
    campaign: dict[str, Any],
    kind: str,
    fields: dict[str, Any],
    now: datetime,
) -> GenerateRequested:
    """Decide the quota (pure, domain.py), then insert the task and its unit: the second and
    last statement of the opening."""
    refusal = quota_decision(
        snapshot.plan,
        used=snapshot.used,
        spend_usd=snapshot.spend_usd,
        resets_at=next_period_start(now),
    )
    if refusal is not None:
        raise PlanLimitReached(
            refusal.message, refusal.details, spend=refusal.reason == "spend_cap"
        )
    profile = snapshot.profile
    event = GenerateRequested(
        task_id=uuid4(),
        producer=GATEWAY,
        user_id=user_id,
        plan=snapshot.plan,
        # Read from PostgreSQL, whose text holds nothing unstorable: no walk over every string.
        campaign=contracts.CampaignSnapshot.parse(campaign, text_checked=FROM_DB),
        profile=(
            contracts.CommunityProfile.parse(profile, text_checked=FROM_DB)
            if profile is not None
            else None
        ),
        blacklist=[
            contracts.BlacklistEntry.parse(entry, text_checked=FROM_DB)
            for entry in snapshot.blacklist
        ],
        # The campaign's level as it is now (a regeneration too: the user may have changed it
        # because of the parent); 'light' for a row read before the column existed.
        humanizer_level=HumanizerLevel(campaign.get("humanizer_level") or HumanizerLevel.LIGHT),
        **fields,
    )
    # The task keeps what was asked (a regeneration reads it back), not the whole snapshot.
    request = {
        "task_id": str(event.task_id),
        "plan": event.plan.value,
        **{key: (str(v) if isinstance(v, UUID) else v) for key, v in fields.items()},
    }
    await repo.insert_task(
        session,
        user_id=user_id,
        task_id=event.task_id,
        campaign_id=UUID(str(campaign["id"])),
        kind=kind,
        request=request,
        period=period_start(now),
    )
    return event


async def open_generation(
    session: AsyncSession,
    user_id: str,
    campaign_id: UUID,
    request: api.GenerateRequest,
    now: datetime,
) -> GenerateRequested:
    snapshot = await repo.read_for_open(
        session,
        user_id=user_id,
        period=period_start(now),
        campaign_id=campaign_id,
        subreddit=request.subreddit,
    )
    campaign = _active_campaign(snapshot)
    targets = list(campaign["target_subreddits"])
    subreddit = next((t for t in targets if t.lower() == request.subreddit.lower()), None)
    if subreddit is None:
        raise InvalidInput(
            f"r/{request.subreddit} is not a target subreddit of this campaign",
            {"subreddit": request.subreddit, "target_subreddits": targets},
        )
    fields = {
        "subreddit": subreddit,
        "archetype": request.archetype,
        "account_status": request.account_status,
        "context": request.context,
    }
    return await _open(
        session,
        user_id=user_id,
        snapshot=snapshot,
        campaign=campaign,
        kind="generate",
        fields=fields,
        now=now,
    )


def _parent_fields(parent: dict[str, Any], subreddit: str | None) -> dict[str, Any]:
    """The parent's parameters: its generation_params, then its task's request, then its columns
    (the subreddit was picked the same way by the statement that read the profile)."""
    params = parent.get("generation_params") or {}
    asked = parent.get("request") or {}

    def pick(key: str, default: Any) -> Any:
        for source in (params, asked):
            if source.get(key) not in (None, ""):
                return source[key]
        return default

    return {
        "subreddit": subreddit or parent["subreddit"],
        "archetype": Archetype(pick("archetype", parent["archetype"])),
        "account_status": AccountStatus(pick("account_status", parent["account_status"])),
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
    snapshot = await repo.read_for_open(
        session, user_id=user_id, period=period_start(now), draft_id=draft_id
    )
    if snapshot.parent is None:
        raise NotFound("draft not found")
    campaign = _active_campaign(snapshot)
    fields = {
        **_parent_fields(snapshot.parent, snapshot.subreddit),
        "parent_draft_id": UUID(str(snapshot.parent["id"])),
        "feedback": request.feedback or None,
    }
    event = await _open(
        session,
        user_id=user_id,
        snapshot=snapshot,
        campaign=campaign,
        kind="regenerate",
        fields=fields,
        now=now,
    )
    # The draft as the user last saw it goes to the model next to the feedback (not into the
    # task's stored request: the drafts table already holds it).
    return event.model_copy(update={"parent_draft": _parent_draft(snapshot.parent)})


def _parent_draft(parent: dict[str, Any]) -> contracts.ParentDraft | None:
    title = parent.get("user_title") or parent.get("title")
    body = parent.get("user_edits") if parent.get("user_edits") is not None else parent.get("body")
    if not title or body is None:
        return None
    edited = parent.get("user_title") is not None or parent.get("user_edits") is not None
    return contracts.ParentDraft(title=title, body=body, edited=edited)


async def claim_task(session: AsyncSession, user_id: str, task_id: UUID, attempt_id: UUID) -> None:
    """The generator's claim before it calls the LLM: queued → running, and running again for a
    redelivery after a crash (generate again). An ended task is a 409 naming its status, so the
    generator skips it; an unknown one (never opened, or its campaign deleted) a 404."""
    for _ in range(2):  # the second read only when the row ended while the claim waited
        result = await repo.claim_task(
            session, task_id=task_id, user_id=user_id, attempt_id=attempt_id
        )
        if result is None:
            raise NotFound("task not found")
        claimed, status = result
        if claimed:
            return
        if status in (TaskStatus.COMPLETED.value, TaskStatus.FAILED.value):
            raise Conflict(f"the task is already {status}", {"status": status})
    # Not claimed yet neither ended: it changed under both reads. The generator retries a 503.
    raise Unavailable("the task changed while it was claimed; claim it again")


async def release_task(
    session: AsyncSession, user_id: str, task_id: UUID, *, code: str, message: str
) -> None:
    """Give a queued task's unit back (the gateway could not tell whether its publish went
    through). Idempotent for a failed task. A running or completed task answers 409 with its
    status: the request did reach the generator, so the gateway reports it as accepted."""
    task = await repo.get_task(session, task_id, user_id=user_id, lock=True)
    if task is None:
        raise NotFound("task not found")
    if task.status in (TaskStatus.RUNNING.value, TaskStatus.COMPLETED.value):
        raise Conflict(f"the task is already {task.status}", {"status": task.status})
    if task.status == TaskStatus.QUEUED.value:
        await repo.fail_task(session, task_id, code=code, message=message, details={}, seq=None)
        await repo.mark_unit(session, task_id, "released")


async def task_state(session: AsyncSession, user_id: str, task_id: UUID) -> api.TaskState:
    task = await repo.get_task(session, task_id, user_id=user_id)
    if task is None:
        raise NotFound("task not found")
    draft = await repo.get_draft_by_task(session, task_id) if task.draft_id else None
    return mapping.task_state(task, draft)
