"""Generation tasks (the `generation_tasks` table) through their life: opening one (ownership,
campaign state, quota, and the GenerateRequested snapshot), the generator's claim, the gateway's
release, and the state a client reads. The SQL is in `repository/`.

Decisions (DOMAIN.md is silent on these):
- Only `active` campaigns generate; `paused` and `archived` answer 409 CONFLICT.
- A new generation's subreddit must be one of the campaign's target subreddits (422 otherwise,
  compared case-insensitively, stored in the campaign's spelling). Regenerations keep the
  parent's subreddit even if it was removed from the targets since.
- Every refusal happens before the quota unit is reserved, so refusals cost nothing.
- An opening may carry the client's Idempotency-Key (ADR 0010): the user's task already opened
  with that key and the same request (its fingerprint) is answered again instead of a new one,
  with no unit reserved; the same key with another request is a 422. The earlier task is looked
  up only when the insert meets the key or the opening is refused (a retry must still find its
  task when the month's drafts are used up since, or the campaign was paused since).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from bcrao_contracts import api
from bcrao_contracts import models as contracts
from bcrao_contracts.base import Contract
from bcrao_contracts.enums import (
    AccountStatus,
    Archetype,
    CampaignStatus,
    HumanizerLevel,
    Plan,
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
from .models import GenerationTask
from .repository.quota import OpenSnapshot

GATEWAY = "api-gateway"  # the gateway publishes the event exactly as built here
# What an opening with a key answers again instead of refusing, once its task is found.
REFUSALS = (NotFound, Conflict, InvalidInput, PlanLimitReached)


@dataclass(frozen=True)
class IdempotencyKey:
    """The client's Idempotency-Key and the fingerprint of the request it came with."""

    key: str
    fingerprint: str

    @classmethod
    def of(cls, key: str, kind: str, target: UUID, body: Contract) -> IdempotencyKey:
        """The fingerprint: sha256 of the endpoint, its target (campaign or draft id) and the
        body as parsed without the fields at their defaults (so `{}` and a body of defaults are
        one request, and a field a later release adds changes no earlier request's print), in
        canonical JSON."""
        body_json = body.model_dump(mode="json", exclude_defaults=True)
        canonical = json.dumps(
            {"endpoint": kind, "target": str(target), "body": body_json},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return cls(key, hashlib.sha256(canonical.encode()).hexdigest())


@dataclass(frozen=True)
class Opening:
    """What an opening answers: the task's GenerateRequested and, when the Idempotency-Key
    found a task opened earlier, that task's status (None: opened now)."""

    event: GenerateRequested
    replayed: TaskStatus | None = None


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


def _event(
    *,
    task_id: UUID,
    user_id: str,
    plan: Plan,
    snapshot: OpenSnapshot,
    campaign: dict[str, Any],
    fields: dict[str, Any],
) -> GenerateRequested:
    profile = snapshot.profile
    return GenerateRequested(
        task_id=task_id,
        producer=GATEWAY,
        user_id=user_id,
        plan=plan,
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


async def _open(
    session: AsyncSession,
    *,
    user_id: str,
    snapshot: OpenSnapshot,
    campaign: dict[str, Any],
    kind: str,
    fields: dict[str, Any],
    now: datetime,
    key: IdempotencyKey | None = None,
) -> GenerateRequested | None:
    """Decide the quota (pure, domain.py), then insert the task and its unit: the second and
    last statement of the opening. None, with nothing inserted, when the user already has a
    task holding `key`."""
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
    event = _event(
        task_id=uuid4(),
        user_id=user_id,
        plan=snapshot.plan,
        snapshot=snapshot,
        campaign=campaign,
        fields=fields,
    )
    # The task keeps what was asked (a regeneration reads it back), not the whole snapshot.
    request = {
        "task_id": str(event.task_id),
        "plan": event.plan.value,
        **{key: (str(v) if isinstance(v, UUID) else v) for key, v in fields.items()},
    }
    inserted = await repo.insert_task(
        session,
        user_id=user_id,
        task_id=event.task_id,
        campaign_id=UUID(str(campaign["id"])),
        kind=kind,
        request=request,
        period=period_start(now),
        idempotency_key=key.key if key else None,
        fingerprint=key.fingerprint if key else None,
    )
    return event if inserted else None


def _asked_fields(task: GenerationTask) -> dict[str, Any]:
    """The parameters a task was opened with, from its stored request (see `_open`)."""
    asked = task.request
    fields: dict[str, Any] = {
        "subreddit": asked["subreddit"],
        "archetype": Archetype(asked["archetype"]),
        "account_status": AccountStatus(asked["account_status"]),
        "context": asked.get("context") or "",
    }
    if task.kind == "regenerate":
        fields["parent_draft_id"] = UUID(str(asked["parent_draft_id"]))
        fields["feedback"] = asked.get("feedback") or None
    return fields


async def _replay(
    session: AsyncSession, user_id: str, snapshot: OpenSnapshot, key: IdempotencyKey
) -> Opening | None:
    """The task the user opened with `key`, answered again: its GenerateRequested rebuilt from
    its stored request and this opening's snapshot (the campaign, profile and blacklist as they
    are now), with its own task id; None when no task holds the key."""
    task = await repo.task_by_key(session, user_id, key.key)
    if task is None:
        return None
    if task.request_fingerprint != key.fingerprint:
        raise InvalidInput(
            "this Idempotency-Key was already used for a different request; "
            "use a new key for a new request",
            {"reason": "idempotency_key_reused"},
        )
    campaign = snapshot.campaign
    if campaign is None or str(campaign["id"]) != str(task.campaign_id):
        return None  # its campaign (or a regeneration's parent draft) is gone: refuse as then
    event = _event(
        task_id=task.task_id,
        user_id=user_id,
        plan=Plan(task.request.get("plan") or snapshot.plan),
        snapshot=snapshot,
        campaign=campaign,
        fields=_asked_fields(task),
    )
    if task.kind == "regenerate" and snapshot.parent is not None:
        event = event.model_copy(update={"parent_draft": _parent_draft(snapshot.parent)})
    return Opening(event, replayed=TaskStatus(task.status))


async def _opening(
    session: AsyncSession,
    user_id: str,
    snapshot: OpenSnapshot,
    key: IdempotencyKey | None,
    open_new: Callable[[], Awaitable[GenerateRequested | None]],
    *,
    replay_only: bool,
) -> Opening:
    """A new task (`open_new`), or with `key` the task opened with it before: found when the
    insert meets the key, or when the new opening is refused. `replay_only`: never a new task
    (404 when no task holds the key)."""
    if key is None:
        event = await open_new()
        assert event is not None  # without a key the insert never conflicts
        return Opening(event)
    if replay_only:
        replay = await _replay(session, user_id, snapshot, key)
        if replay is None:
            raise NotFound("no task was opened with this Idempotency-Key")
        return replay
    try:
        event = await open_new()
    except REFUSALS:
        replay = await _replay(session, user_id, snapshot, key)
        if replay is None:
            raise
        return replay
    if event is not None:
        return Opening(event)
    replay = await _replay(session, user_id, snapshot, key)
    if replay is None:  # the key's task is gone although the insert met it: cannot happen
        raise Unavailable("the task could not be opened; try again shortly")
    return replay


async def open_generation(
    session: AsyncSession,
    user_id: str,
    campaign_id: UUID,
    request: api.GenerateRequest,
    now: datetime,
) -> GenerateRequested:
    opening = await open_generation_task(session, user_id, campaign_id, request, now)
    return opening.event


async def open_generation_task(
    session: AsyncSession,
    user_id: str,
    campaign_id: UUID,
    request: api.GenerateRequest,
    now: datetime,
    key: IdempotencyKey | None = None,
    *,
    replay_only: bool = False,
) -> Opening:
    snapshot = await repo.read_for_open(
        session,
        user_id=user_id,
        period=period_start(now),
        campaign_id=campaign_id,
        subreddit=request.subreddit,
    )

    async def open_new() -> GenerateRequested | None:
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
            key=key,
        )

    return await _opening(session, user_id, snapshot, key, open_new, replay_only=replay_only)


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
    opening = await open_regeneration_task(session, user_id, draft_id, request, now)
    return opening.event


async def open_regeneration_task(
    session: AsyncSession,
    user_id: str,
    draft_id: UUID,
    request: api.RegenerateRequest,
    now: datetime,
    key: IdempotencyKey | None = None,
    *,
    replay_only: bool = False,
) -> Opening:
    snapshot = await repo.read_for_open(
        session, user_id=user_id, period=period_start(now), draft_id=draft_id
    )

    async def open_new() -> GenerateRequested | None:
        parent = snapshot.parent
        if parent is None:
            raise NotFound("draft not found")
        campaign = _active_campaign(snapshot)
        fields = {
            **_parent_fields(parent, snapshot.subreddit),
            "parent_draft_id": UUID(str(parent["id"])),
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
            key=key,
        )
        # The draft as the user last saw it goes to the model next to the feedback (not into
        # the task's stored request: the drafts table already holds it).
        if event is None:
            return None
        return event.model_copy(update={"parent_draft": _parent_draft(parent)})

    return await _opening(session, user_id, snapshot, key, open_new, replay_only=replay_only)


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
    through), and its Idempotency-Key (ADR 0010). Idempotent for a failed task. A running or
    completed task answers 409 with its status: the request did reach the generator, so the
    gateway reports it as accepted."""
    task = await repo.get_task(session, task_id, user_id=user_id, lock=True)
    if task is None:
        raise NotFound("task not found")
    if task.status in (TaskStatus.RUNNING.value, TaskStatus.COMPLETED.value):
        raise Conflict(f"the task is already {task.status}", {"status": task.status})
    if task.status == TaskStatus.QUEUED.value:
        # The client was told 503: a retry with the same Idempotency-Key is a new attempt.
        await repo.fail_task(
            session, task_id, code=code, message=message, details={}, seq=None, forget_key=True
        )
        await repo.mark_unit(session, task_id, "released")


async def task_state(session: AsyncSession, user_id: str, task_id: UUID) -> api.TaskState:
    task = await repo.get_task(session, task_id, user_id=user_id)
    if task is None:
        raise NotFound("task not found")
    draft = await repo.get_draft_by_task(session, task_id) if task.draft_id else None
    return mapping.task_state(task, draft)
