"""Internal REST for drafts and generation tasks; the session dependency commits, routes do not."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from bcrao_contracts import api
from bcrao_contracts.enums import (
    Archetype,
    DraftStatus,
    UnknownDraftStatus,
    parse_draft_statuses,
)
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.history import DraftHistory
from bcrao_contracts.models import CommunityProfile, Draft, EditReport, GenerationParams
from bcrao_rules.context import context_problem, default_context
from bcrao_rules.edits import check_edit, field_changes
from bcrao_rules.verdicts import RuleInputs, failed_labels, rule_inputs
from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import ValidationError

from . import generation_tasks, mapping, models
from . import repository as repo
from .deps import (
    IDEMPOTENCY_KEY_PATTERN,
    IdempotencyKeyHeader,
    IfMatch,
    NowDep,
    OpenSessionDep,
    RuntimeDep,
    SessionDep,
    UserId,
)
from .domain import next_status
from .errors import Conflict, InvalidInput, NotFound, Unavailable
from .generation_tasks import IdempotencyKey, Opening
from .preconditions import require_version
from .repository import history as history_repo
from .routes import Limit, Offset, owned_campaign
from .schemas import TaskRelease

router = APIRouter(prefix="/internal/users/{user_id}")
# On an opening answered 200 (its Idempotency-Key found the task it opened before): that task's
# status, so the gateway knows whether to publish its GenerateRequested again (queued only).
TASK_STATUS_HEADER = "Task-Status"
REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The task this Idempotency-Key opened before (no unit reserved); the "
        "Task-Status header names its status",
        "model": GenerateRequested,
    },
    422: {"description": "VALIDATION_ERROR; also the Idempotency-Key used for another request"},
}
# The replay-only openings need the key.
RequiredIdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN)
]
# Checking an edit runs the campaign's blacklist (RE2, linear) over at most 40,000 characters.
EDIT_CHECK_TIMEOUT = 10.0


def parse_statuses(values: list[str] | None) -> list[str]:
    """`status=a&status=b` and `status=a,b` both work; unknown names are a 422."""
    try:
        return [status.value for status in parse_draft_statuses(values)]
    except UnknownDraftStatus as exc:
        details = {"status": exc.unknown, "allowed": sorted(exc.allowed)}
        raise InvalidInput("unknown draft status", details) from None


async def owned_draft(
    session: SessionDep, user_id: str, draft_id: UUID, *, lock: bool = False
) -> models.Draft:
    draft = await repo.get_draft(session, user_id, draft_id, lock=lock)
    if draft is None:
        raise NotFound("draft not found")
    return draft


@router.get("/campaigns/{campaign_id}/drafts")
async def list_drafts(
    user_id: UserId,
    campaign_id: UUID,
    session: SessionDep,
    status: Annotated[list[str] | None, Query()] = None,
    subreddit: Annotated[str | None, Query(max_length=30)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
    archetype: Archetype | None = None,
    needs_review: bool | None = None,
    sort: Annotated[str, Query(pattern="^(newest|oldest|score)$")] = "newest",
) -> api.DraftList:
    campaign = await owned_campaign(session, user_id, campaign_id)
    name = subreddit.strip().removeprefix("/").removeprefix("r/") if subreddit else None
    rows, total = await repo.list_drafts(
        session,
        campaign.id,
        statuses=parse_statuses(status),
        subreddit=name or None,
        limit=limit,
        offset=offset,
        search=q.strip() if q and q.strip() else None,
        archetype=archetype.value if archetype else None,
        needs_review=needs_review,
        sort=sort,
    )
    return api.DraftList(drafts=[mapping.draft_out(r) for r in rows], total=total)


@router.get("/drafts/{draft_id}")
async def get_draft(user_id: UserId, draft_id: UUID, session: SessionDep) -> Draft:
    return mapping.draft_out(await owned_draft(session, user_id, draft_id))


async def _check_edit(session: SessionDep, draft: models.Draft, now: datetime) -> EditReport:
    """The edited text through the same validation and scoring as generated text, against the
    blacklist and profile as they are now; on a worker thread under a deadline, because the
    blacklist holds the user's own patterns."""
    entries = await repo.applicable_blacklist(session, draft.campaign_id, draft.subreddit)
    row = await repo.get_profile(session, draft.campaign_id, draft.subreddit)
    profile = mapping.profile_snapshot(row) if row else None
    check = asyncio.to_thread(
        check_edit,
        draft.user_title or draft.title,
        draft.user_edits if draft.user_edits is not None else draft.body,
        blacklist=[mapping.blacklist_out(e) for e in entries],
        profile=profile,
        checked_at=now,
        rules=await _rule_inputs(session, draft, profile),
        flair=draft.flair,
    )
    try:
        return await asyncio.wait_for(check, EDIT_CHECK_TIMEOUT)
    except TimeoutError:
        raise Unavailable("checking the edited text took too long; try again") from None


async def _rule_inputs(
    session: SessionDep, draft: models.Draft, profile: CommunityProfile | None
) -> RuleInputs | None:
    """The draft's rules: its gating outcome (stored with its generation parameters), the
    campaign's product facts and the community's requirements as they are now. None for a draft
    stored without parameters."""
    try:
        params = GenerationParams.parse(draft.generation_params or {})
    except ValidationError:
        return None
    campaign = await repo.get_campaign(session, draft.user_id, draft.campaign_id)
    if campaign is None:
        return None
    return rule_inputs(
        params,
        product_context=campaign.product_context,
        product_url=campaign.product_url,
        profile=profile,
    )


def _current_report(draft: models.Draft) -> dict[str, Any]:
    report: dict[str, Any] = (
        draft.edit_report["validation"] if draft.edit_report else draft.validation
    )
    return report


def _failed_rules(draft: models.Draft) -> list[dict[str, Any]]:
    verdicts = _current_report(draft).get("rule_verdicts", [])
    return [v for v in verdicts if not v.get("passed", True)]


def _needs_confirmation(draft: models.Draft) -> Conflict:
    report = _current_report(draft)
    high = [hit for hit in report.get("blacklist_hits", []) if hit.get("severity") == "high"]
    failed = _failed_rules(draft)
    return Conflict(
        "this draft needs review: its current report has high-severity blacklist hits or "
        "failed rules; approve it with confirm_needs_review: true once you have checked them",
        {
            "reason": "needs_review",
            "report": "edit" if draft.edit_report else "generated",
            "high_severity_hits": [
                {"entry": h.get("entry"), "matched_text": h.get("matched_text")} for h in high
            ],
            "failed_rules": [
                {"rule": v.get("rule"), "label": v.get("label"), "reason": v.get("reason")}
                for v in failed
            ],
            "confirm_with": {"confirm_needs_review": True},
        },
    )


@router.patch("/drafts/{draft_id}")
async def update_draft(
    user_id: UserId,
    draft_id: UUID,
    body: api.DraftPatch,
    session: SessionDep,
    now: NowDep,
    if_match: IfMatch = None,
) -> Draft:
    """Saving `title`, `user_edits` or `flair` makes the draft `edited` (also from `approved`:
    changed text needs a new approval) and re-checks the edited text, rule by rule; a `status`
    in the same body applies after that. Illegal moves answer 409, and so does approving a draft
    that needs review without `confirm_needs_review`. Every change is recorded in the draft's
    history, with the rules the text failed at that point."""
    draft = await owned_draft(session, user_id, draft_id, lock=True)
    if if_match is not None:
        require_version(if_match, mapping.draft_out(draft), "draft")
    start = DraftStatus(draft.status)
    edits_saved = body.user_edits is not None or body.title is not None or body.flair is not None
    status = next_status(start, requested=body.status, edits_saved=edits_saved)
    if edits_saved:
        old_title = draft.user_title or draft.title
        old_body = draft.user_edits if draft.user_edits is not None else draft.body
        old_flair = draft.flair or ""
        changes = field_changes(
            {
                "title": (old_title, body.title if body.title is not None else old_title),
                "user_edits": (
                    old_body,
                    body.user_edits if body.user_edits is not None else old_body,
                ),
            }
        )
        new_flair = body.flair if body.flair is not None else old_flair
        if body.title is not None:
            draft.user_title = body.title
        if body.user_edits is not None:
            draft.user_edits = body.user_edits
        if body.flair is not None:
            draft.flair = body.flair or None
        report = await _check_edit(session, draft, now)
        draft.edit_report = report.model_dump(mode="json")
        draft.needs_review = report.validation.needs_review
        await history_repo.record(
            session,
            draft_id=draft.id,
            user_id=user_id,
            action="edited",
            from_status=start.value,
            to_status=DraftStatus.EDITED.value,
            changes=[c.model_dump(mode="json") for c in changes],
            flair_change={"before": old_flair, "after": new_flair}
            if new_flair != old_flair
            else None,
            failed_rules=failed_labels(report.validation),
        )
    before = DraftStatus.EDITED if edits_saved else start
    if status is not before:
        confirmed = status is DraftStatus.APPROVED and draft.needs_review
        if confirmed and not body.confirm_needs_review:
            raise _needs_confirmation(draft)
        await history_repo.record(
            session,
            draft_id=draft.id,
            user_id=user_id,
            action="status_changed",
            from_status=before.value,
            to_status=status.value,
            confirmed_needs_review=confirmed,
            failed_rules=[v.get("label") for v in _failed_rules(draft)]
            if status is DraftStatus.APPROVED
            else [],
        )
    if edits_saved or status.value != draft.status:
        draft.status = status.value
        await session.flush()
        await session.refresh(draft)
    return mapping.draft_out(draft)


@router.get("/drafts/{draft_id}/history")
async def get_draft_history(user_id: UserId, draft_id: UUID, session: SessionDep) -> DraftHistory:
    draft = await owned_draft(session, user_id, draft_id)
    recorded = await history_repo.entries(session, draft.id)
    children = await history_repo.regenerations(session, user_id, draft.id)
    return mapping.draft_history(draft, recorded, children)


@router.delete("/drafts/{draft_id}", status_code=204)
async def delete_draft(
    user_id: UserId, draft_id: UUID, session: SessionDep, if_match: IfMatch = None
) -> None:
    draft = await owned_draft(session, user_id, draft_id, lock=if_match is not None)
    if if_match is not None:
        require_version(if_match, mapping.draft_out(draft), "draft")
    await repo.delete_draft(session, draft)


def _answer(opening: Opening, response: Response, runtime: RuntimeDep) -> GenerateRequested:
    if opening.replayed is None:
        runtime.metrics.tasks_opened += 1
    else:
        response.status_code = 200
        response.headers[TASK_STATUS_HEADER] = opening.replayed.value
        runtime.metrics.tasks_replayed += 1
    return opening.event


async def _open_generation(
    user_id: str,
    campaign_id: UUID,
    body: api.GenerateRequest,
    session: OpenSessionDep,
    now: datetime,
    key: str | None,
    *,
    replay_only: bool,
) -> Opening:
    # The fingerprint is of the request as sent (an empty context too), before it is filled in.
    idempotency = IdempotencyKey.of(key, "generate", campaign_id, body) if key else None
    if problem := context_problem(body.context):
        raise InvalidInput(
            problem, {"errors": [{"field": "context", "message": problem, "type": "too_short"}]}
        )
    if not body.context.strip() and not replay_only:
        campaign = await owned_campaign(session, user_id, campaign_id)
        topic = default_context(list(campaign.keywords), body.subreddit)
        body = body.model_copy(update={"context": topic})
    return await generation_tasks.open_generation_task(
        session, user_id, campaign_id, body, now, idempotency, replay_only=replay_only
    )


@router.post("/campaigns/{campaign_id}/tasks", status_code=201, responses=REPLAYED)
async def open_generation_task(
    user_id: UserId,
    campaign_id: UUID,
    body: api.GenerateRequest,
    session: OpenSessionDep,
    now: NowDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> GenerateRequested:
    """A context shorter than CONTEXT_MIN is refused; an empty one becomes a topic built from the
    campaign's keywords (bcrao_rules.context), stored with the task like a typed one. With an
    Idempotency-Key the user's task opened with that key and request is answered again (200)."""
    opening = await _open_generation(
        user_id, campaign_id, body, session, now, idempotency_key, replay_only=False
    )
    return _answer(opening, response, runtime)


@router.post("/campaigns/{campaign_id}/tasks/replay", responses=REPLAYED)
async def replay_generation_task(
    user_id: UserId,
    campaign_id: UUID,
    body: api.GenerateRequest,
    session: OpenSessionDep,
    now: NowDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: RequiredIdempotencyKey,
) -> GenerateRequested:
    """Only the task opened before with this Idempotency-Key and request (200, as the opening
    answers it), never a new one: 404 when there is none. The gateway asks this when it would
    refuse a request 429, so a retry is not refused because of its own first attempt."""
    opening = await _open_generation(
        user_id, campaign_id, body, session, now, idempotency_key, replay_only=True
    )
    return _answer(opening, response, runtime)


@router.get("/campaigns/{campaign_id}/tasks")
async def list_in_flight_tasks(
    user_id: UserId, campaign_id: UUID, session: SessionDep
) -> api.InFlightTaskList:
    """The campaign's generations that are queued or running, oldest first (at most 50)."""
    campaign = await owned_campaign(session, user_id, campaign_id)
    rows = await repo.in_flight_tasks(session, campaign.id)
    return api.InFlightTaskList(tasks=[mapping.in_flight_task(t) for t in rows])


async def _open_regeneration(
    user_id: str,
    draft_id: UUID,
    body: api.RegenerateRequest | None,
    session: OpenSessionDep,
    now: datetime,
    key: str | None,
    *,
    replay_only: bool,
) -> Opening:
    request = body or api.RegenerateRequest()
    idempotency = IdempotencyKey.of(key, "regenerate", draft_id, request) if key else None
    return await generation_tasks.open_regeneration_task(
        session, user_id, draft_id, request, now, idempotency, replay_only=replay_only
    )


@router.post("/drafts/{draft_id}/tasks", status_code=201, responses=REPLAYED)
async def open_regeneration_task(
    user_id: UserId,
    draft_id: UUID,
    session: OpenSessionDep,
    now: NowDep,
    runtime: RuntimeDep,
    response: Response,
    body: Annotated[api.RegenerateRequest | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> GenerateRequested:
    opening = await _open_regeneration(
        user_id, draft_id, body, session, now, idempotency_key, replay_only=False
    )
    return _answer(opening, response, runtime)


@router.post("/drafts/{draft_id}/tasks/replay", responses=REPLAYED)
async def replay_regeneration_task(
    user_id: UserId,
    draft_id: UUID,
    session: OpenSessionDep,
    now: NowDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: RequiredIdempotencyKey,
    body: Annotated[api.RegenerateRequest | None, Body()] = None,
) -> GenerateRequested:
    """Like /campaigns/{campaign_id}/tasks/replay, for a regeneration."""
    opening = await _open_regeneration(
        user_id, draft_id, body, session, now, idempotency_key, replay_only=True
    )
    return _answer(opening, response, runtime)


@router.post("/tasks/{task_id}/release", status_code=204)
async def release_task(
    user_id: UserId, task_id: UUID, body: TaskRelease, session: SessionDep
) -> None:
    await generation_tasks.release_task(
        session, user_id, task_id, code=body.code, message=body.message
    )


@router.get("/tasks/{task_id}")
async def get_task(user_id: UserId, task_id: UUID, session: SessionDep) -> api.TaskState:
    return await generation_tasks.task_state(session, user_id, task_id)
