"""One generation, stage by stage: gating, prompt, LLM, post-processing, validation, scoring.

Pure domain steps are called in order; the only I/O is the LLM port and the progress sink,
both passed in. The outcome is exactly one terminal event, never an exception for a domain
failure.

Validation runs users' own blacklist patterns. RE2 keeps each one linear in the text, but a few
hundred patterns over a long draft is still real CPU work, so it runs on a worker thread under a
deadline: the event loop keeps serving every other user's generation (and the Kafka heartbeat)
meanwhile, and a validation that overruns its deadline fails this one task instead of storing an
unchecked draft.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from bcrao_contracts.enums import ErrorCode, HumanizerLevel, Severity, Stage
from bcrao_contracts.events import DraftGenerated, GenerateRequested, GenerationFailed
from bcrao_contracts.models import GeneratedDraft, GenerationParams, ValidationReport
from bcrao_rules import scoring, validation, verdicts
from bcrao_rules.gating import GatingDecision, check_gating

from . import humanizer, postprocess, prompt
from .llm import LLM, LLMRequest, LLMResult, LLMUnavailable
from .obedience import failed_rules, generation_rules, rule_problems
from .progress import PRODUCER, Progress

log = logging.getLogger(__name__)

DEFAULT_VALIDATION_TIMEOUT = 10.0
Outcome: TypeAlias = DraftGenerated | GenerationFailed


def _failed(
    request: GenerateRequested,
    progress: Progress,
    code: ErrorCode,
    message: str,
    details: dict[str, object] | None = None,
    *,
    retryable: bool = False,
) -> GenerationFailed:
    return GenerationFailed(
        task_id=request.task_id,
        producer=PRODUCER,
        seq=progress.next_seq(),
        user_id=request.user_id,
        campaign_id=request.campaign.id,
        code=code,
        message=message,
        details=details or {},
        retryable=retryable,
    )


@dataclass
class _Checked:
    title: str
    body: str
    report: ValidationReport

    def problems(
        self, request: GenerateRequested, params: GenerationParams, flair: str | None
    ) -> list[str]:
        """What a repair round would fix: high-severity blacklist hits and failed rules (the
        gating constraints and the community's requirements)."""
        hits = [
            f'remove "{h.matched_text}" ({h.description})'
            for h in self.report.blacklist_hits
            if h.severity is Severity.HIGH
        ]
        failed = failed_rules(request, params, self.title, self.body, flair)
        return hits + rule_problems(failed)


class _Empty:
    """The model wrote a title and no body."""


class _Overran:
    """Validation overran its deadline."""


async def _check(
    request: GenerateRequested,
    decision: GatingDecision,
    text: str,
    seed: str,
    validation_timeout: float,
) -> _Checked | _Empty | _Overran:
    """Title and body from the model's text, humanized, links removed where the rules say, and
    validated off the event loop under the deadline."""
    profile = request.profile
    title, body = postprocess.split_title(text)
    grade = profile.formality_level if profile else None
    body = humanizer.humanize(body, seed=seed, grade_level=grade, level=request.humanizer_level)
    removed: list[str] = []
    if decision.zero_links:
        title, removed_from_title = postprocess.remove_links(title)
        body, removed = postprocess.remove_links(body)
        removed = removed_from_title + removed
        title = title.strip() or postprocess.split_title(body)[0]
    if not body.strip():
        return _Empty()
    check = asyncio.to_thread(
        validation.validate,
        title,
        body,
        blacklist=request.blacklist,
        links_removed=removed,
        **writing_inputs(request),
    )
    try:
        report = await asyncio.wait_for(check, validation_timeout)
    except TimeoutError:
        # The worker thread cannot be stopped; it finishes on its own (RE2 bounds it) and its
        # result is dropped. The unit goes back with the failure.
        log.warning("validation overran its deadline of %ss", validation_timeout)
        return _Overran()
    return _Checked(title, body, report)


def _overran(request: GenerateRequested, progress: Progress, timeout: float) -> GenerationFailed:
    return _failed(
        request,
        progress,
        ErrorCode.GENERATION_FAILED,
        "Checking the draft against the blacklist took too long; simplify the campaign's "
        "blacklist patterns and try again.",
        {"reason": "validation_timeout", "timeout_seconds": timeout},
    )


def _with_repair(first: LLMResult, repair: LLMResult, *, keep_text: bool) -> LLMResult:
    """The call's record with the repair round's tokens and cost added."""
    return replace(
        first if keep_text else repair,
        prompt_tokens=first.prompt_tokens + repair.prompt_tokens,
        completion_tokens=first.completion_tokens + repair.completion_tokens,
        cost_usd=round(first.cost_usd + repair.cost_usd, 6),
        attempts=first.attempts + repair.attempts,
    )


def writing_inputs(request: GenerateRequested) -> dict[str, Any]:
    """What the writing findings compare a draft with: the text it must not paste (the user's
    context, the product description), what it must be about, and whether the Reddit-casual
    level asked for lowercase starts."""
    campaign = request.campaign
    topic = [*campaign.keywords, campaign.product_context, request.context, request.subreddit]
    if request.feedback:
        topic.append(request.feedback)
    return {
        "sources": [request.context, campaign.product_context],
        "topic": topic,
        "casual": request.humanizer_level is HumanizerLevel.CASUAL,
    }


async def run_generation(
    request: GenerateRequested,
    *,
    llm: LLM,
    progress: Progress,
    validation_timeout: float = DEFAULT_VALIDATION_TIMEOUT,
) -> Outcome:
    profile = request.profile
    where = f"r/{request.subreddit}"
    await progress.status(
        Stage.LOADING_PROFILE,
        f"Loaded the {where} community profile"
        if profile
        else f"No community profile for {where}: using neutral defaults",
    )

    await progress.status(Stage.CHECKING_GATING, "Checking the community's safety rules")
    decision = check_gating(
        request.archetype, request.account_status, profile.isc_score if profile else None
    )
    if not decision.allowed:
        assert decision.code is not None
        return _failed(request, progress, decision.code, decision.message, decision.details())

    await progress.status(Stage.BUILDING_PROMPT, "Building the prompt")
    params = prompt.generation_params(request, decision)
    built = prompt.prompt_from_params(params)

    await progress.status(Stage.GENERATING, f"Writing the draft ({llm.name})")
    seed = str(request.task_id)

    async def restart(reason: str) -> None:
        await progress.restart(f"Starting over: {reason}")

    try:
        result = await llm.complete(
            LLMRequest(prompt=built, seed=seed, request=request, decision=decision),
            on_text=progress.chunk,
            on_restart=restart,
        )
    except LLMUnavailable as exc:
        await progress.flush()
        return _failed(
            request, progress, ErrorCode.LLM_UNAVAILABLE, str(exc), retryable=exc.retryable
        )
    await progress.flush()

    await progress.status(Stage.VALIDATING, "Checking the draft against the rules")
    checked = await _check(request, decision, result.text, seed, validation_timeout)
    if isinstance(checked, _Empty):
        return _failed(
            request,
            progress,
            ErrorCode.GENERATION_FAILED,
            "The model wrote a title but no post; try again.",
            retryable=True,
        )
    if isinstance(checked, _Overran):
        return _overran(request, progress, validation_timeout)
    repair_tokens: tuple[int, int] | None = None
    # The flair a new draft starts with when the community requires one.
    flair = verdicts.suggest_flair(profile.requirements if profile else None, request.archetype)
    problems = checked.problems(request, params, flair)
    if problems and getattr(llm, "repairs", True):
        # One bounded round: the model sees its draft and the list, and answers once. The text
        # with fewer problems is kept (a failed repair keeps the first); the report says so.
        await progress.restart("Repairing the draft: " + "; ".join(problems)[:300])
        fixed: LLMResult | None = None
        try:
            fixed = await llm.complete(
                LLMRequest(
                    prompt=prompt.repair_prompt(built, result.text, problems),
                    seed=seed,
                    request=request,
                    decision=decision,
                ),
                on_text=progress.chunk,
                on_restart=restart,
            )
        except LLMUnavailable:
            log.warning("the repair round failed; keeping the first draft")
        await progress.flush()
        again = None
        if fixed is not None:
            repair_tokens = (fixed.prompt_tokens, fixed.completion_tokens)
            again = await _check(request, decision, fixed.text, seed, validation_timeout)
            if isinstance(again, _Overran):
                return _overran(request, progress, validation_timeout)
        if (
            fixed is not None
            and isinstance(again, _Checked)
            and len(again.problems(request, params, flair)) < len(problems)
        ):
            checked = again
            result = _with_repair(result, fixed, keep_text=False)
        else:
            if fixed is not None:
                result = _with_repair(result, fixed, keep_text=True)
            await progress.restart("The repair did not help: keeping the first draft")
            await progress.chunk(result.text)
            await progress.flush()
        checked.report = checked.report.model_copy(update={"repaired": problems})
    title, body, report = checked.title, checked.body, checked.report

    # Rule by rule: the gating constraints and the community's requirements (a failed rule
    # marks the draft needs_review like a high-severity hit).
    rules = generation_rules(request, params)
    report = verdicts.with_verdicts(report, verdicts.check_rules(title, body, flair, rules))

    await progress.status(Stage.SCORING, "Scoring the draft")
    scores = await asyncio.to_thread(
        scoring.score,
        body,
        profile=profile,
        link_count=report.link_count,
        findings=report.writing_findings,
    )

    warnings = [] if profile else ["no_profile"]
    if result.finish_reason == "length":
        warnings.append("truncated_at_max_tokens")
    draft = GeneratedDraft(
        campaign_id=request.campaign.id,
        user_id=request.user_id,
        parent_draft_id=request.parent_draft_id,
        subreddit=request.subreddit,
        archetype=request.archetype,
        account_status=request.account_status,
        title=title,
        body=body,
        scores=scores,
        validation=report,
        model_used=result.model,
        token_count=result.token_count,
        cost_usd=result.cost_usd,
        generation_params=params.model_copy(
            update={
                "model": result.model,
                "attempts": result.attempts,
                "finish_reason": result.finish_reason,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "humanizer_seed": seed,
                "repair_prompt_tokens": repair_tokens[0] if repair_tokens else None,
                "repair_completion_tokens": repair_tokens[1] if repair_tokens else None,
            }
        ),
        warnings=warnings,
        flair=flair,
    )
    await progress.status(Stage.FINISHING, "Handing the draft over to be stored")
    return DraftGenerated(
        task_id=request.task_id, producer=PRODUCER, seq=progress.next_seq(), draft=draft
    )
