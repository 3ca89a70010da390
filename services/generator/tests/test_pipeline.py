"""The pipeline end to end with a hand-written LLM fake: stages, seqs, gating, failures."""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from bcrao_contracts.enums import (
    AccountStatus,
    Archetype,
    BlacklistKind,
    ErrorCode,
    Severity,
    Stage,
)
from bcrao_contracts.events import (
    DraftGenerated,
    GenerateRequested,
    GenerationFailed,
    ProgressUpdated,
)
from bcrao_contracts.models import BlacklistEntry, ValidationReport
from bcrao_contracts.requirements import CommunityRequirements
from bcrao_generator.config import Settings
from bcrao_generator.llm import (
    LLMRequest,
    LLMResult,
    LLMUnavailable,
    OnRestart,
    OnText,
)
from bcrao_generator.llm_openai import OpenAILLM
from bcrao_generator.pipeline import run_generation
from bcrao_generator.progress import Progress
from bcrao_generator.prompt import prompt_from_params
from bcrao_rules import validation as rules_validation
from bcrao_rules.textstats import split_paragraphs
from bcrao_testkit import fake_openai
from bcrao_testkit.servers import serve

from .factories import request
from .test_prompt import CASES as PROMPT_CASES

TEXT = (
    "Title: Late invoices ate my Fridays\n\n"
    "Three clients paid late in the same month and I was stuck chasing them.\n\n"
    "I tried a spreadsheet first. It lasted four weeks. Details: https://example.com/notes\n\n"
    "Now reminders go out on their own. How do you all handle clients who go quiet?"
)


@dataclass
class FakeLLM:
    text: str = TEXT
    fail: LLMUnavailable | None = None
    restart_first: bool = False
    calls: list[LLMRequest] = field(default_factory=list)
    name: str = "fake-model"

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        self.calls.append(call)
        if self.restart_first:
            await on_text("a first attempt that was cut")
            await on_restart("stream cut before completion")
        if self.fail:
            raise self.fail
        for i in range(0, len(self.text), 10):
            await on_text(self.text[i : i + 10])
        return LLMResult(self.text, self.name, 100, 50, 0.001, "stop", 1)


class Sink:
    def __init__(self) -> None:
        self.events: list[ProgressUpdated] = []

    async def __call__(self, event: ProgressUpdated) -> None:
        self.events.append(event)

    def stages(self) -> list[Stage]:
        return [e.stage for e in self.events if e.kind == "status" and e.stage]


async def run(llm: FakeLLM, **kwargs: object) -> tuple[DraftGenerated | GenerationFailed, Sink]:
    sink = Sink()
    req = request(**kwargs)  # type: ignore[arg-type]
    outcome = await run_generation(req, llm=llm, progress=Progress(req.task_id, sink, interval=0))
    return outcome, sink


async def test_a_draft_goes_through_every_stage_with_gap_free_seqs() -> None:
    llm = FakeLLM()
    outcome, sink = await run(llm, context="late invoices")
    assert isinstance(outcome, DraftGenerated)
    assert sink.stages() == list(Stage)
    seqs = [e.seq for e in sink.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert outcome.seq == seqs[-1] + 1
    chunks = "".join(e.content or "" for e in sink.events if e.kind == "chunk")
    assert chunks == TEXT
    draft = outcome.draft
    assert draft.title == "Late invoices ate my Fridays"
    assert len(split_paragraphs(draft.body)) == 3
    assert draft.model_used == "fake-model"
    assert draft.token_count == 150
    assert draft.cost_usd == 0.001
    assert draft.warnings == []
    assert draft.validation.link_count == 1  # Established: links are allowed, and counted
    assert draft.scores.link_penalty == 3


async def test_generation_params_rebuild_the_exact_prompt() -> None:
    llm = FakeLLM()
    outcome, _ = await run(llm, context="late invoices")
    assert isinstance(outcome, DraftGenerated)
    rebuilt = prompt_from_params(outcome.draft.generation_params)
    assert rebuilt.messages() == llm.calls[0].prompt.messages()


PARAMS_SNAPSHOTS = Path(__file__).parent / "snapshots" / "params"


@pytest.mark.parametrize("name", sorted(PROMPT_CASES))
async def test_the_stored_params_keep_their_wire_bytes(name: str) -> None:
    """DraftGenerated carries `generation_params` byte for byte as it did when it was an untyped
    dict (the snapshots were written by that code): consumers of version 1 see no change."""
    req = PROMPT_CASES[name]
    outcome = await run_generation(
        req, llm=FakeLLM(), progress=Progress(req.task_id, Sink(), interval=0)
    )
    assert isinstance(outcome, DraftGenerated)
    wire = outcome.to_json()
    start = wire.index(b'"generation_params":') + len(b'"generation_params":')
    carried = wire[start : wire.index(b',"warnings":')]
    path = PARAMS_SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_bytes(carried + b"\n")
    assert carried + b"\n" == path.read_bytes()
    assert outcome.draft.generation_params.humanizer_seed == str(req.task_id)
    assert outcome.draft.generation_params.prompt_tokens == 100


async def test_refused_request_costs_no_llm_call() -> None:
    llm = FakeLLM()
    outcome, sink = await run(llm, subreddit="selfhosted", archetype=Archetype.JOURNEY)
    assert isinstance(outcome, GenerationFailed)
    assert outcome.code is ErrorCode.ISC_ARCHETYPE_BLOCKED
    assert outcome.details["forced_archetype"] == "Feedback"
    assert outcome.details["constraints"]
    assert llm.calls == []
    assert sink.stages() == [Stage.LOADING_PROFILE, Stage.CHECKING_GATING]
    assert outcome.seq == 3


async def test_new_account_is_refused_anything_but_feedback() -> None:
    outcome, _ = await run(FakeLLM(), account_status=AccountStatus.NEW)
    assert isinstance(outcome, GenerationFailed)
    assert outcome.code is ErrorCode.WARMUP_ARCHETYPE_BLOCKED


async def test_zero_link_rules_remove_links_and_record_them() -> None:
    outcome, _ = await run(FakeLLM(), account_status=AccountStatus.WARMING_UP)
    assert isinstance(outcome, DraftGenerated)
    assert "https://" not in outcome.draft.body
    assert outcome.draft.validation.links_removed == ["https://example.com/notes"]
    assert outcome.draft.validation.link_count == 0


async def test_every_draft_gets_a_verdict_per_rule_and_a_failed_rule_needs_review() -> None:
    base = request()
    assert base.profile is not None
    rules = CommunityRequirements(
        title_max_length=20, required_flairs=["Showcase", "Discussion"], banned_title_words=["ate"]
    )
    strict = base.profile.model_copy(update={"requirements": rules})
    outcome, _ = await run(FakeLLM(), account_status=AccountStatus.WARMING_UP, profile=strict)
    assert isinstance(outcome, DraftGenerated)
    draft = outcome.draft
    assert draft.flair == "Discussion"  # the flair that fits a ProblemSolution post
    verdicts = {v.rule: v for v in draft.validation.rule_verdicts}
    assert verdicts["gating.zero_links"].passed  # the link was removed before the check
    assert verdicts["community.flair"].passed
    assert not verdicts["community.title_length"].passed  # "Late invoices ate my Fridays" is 28
    assert verdicts["community.banned_title_words"].locations[0].text == "ate"
    assert draft.validation.needs_review  # no high-severity hit, but failed rules


async def test_llm_unavailable_ends_the_task_as_retryable_failure() -> None:
    outcome, sink = await run(FakeLLM(fail=LLMUnavailable("the language model is unavailable")))
    assert isinstance(outcome, GenerationFailed)
    assert outcome.code is ErrorCode.LLM_UNAVAILABLE
    assert outcome.retryable is True
    assert outcome.seq == sink.events[-1].seq + 1


async def test_a_restart_is_announced_before_the_new_text() -> None:
    outcome, sink = await run(FakeLLM(restart_first=True))
    assert isinstance(outcome, DraftGenerated)
    generating = [e for e in sink.events if e.stage is Stage.GENERATING]
    assert len(generating) == 2
    assert [e.restart for e in generating] == [False, True]
    assert generating[1].message is not None
    assert "stream cut" in generating[1].message
    assert "cut" not in outcome.draft.body


async def test_title_without_a_body_is_a_failure_not_an_empty_draft() -> None:
    outcome, _ = await run(FakeLLM(text="Title: Only a title"))
    assert isinstance(outcome, GenerationFailed)
    assert outcome.code is ErrorCode.GENERATION_FAILED


async def test_missing_profile_warns() -> None:
    outcome, sink = await run(FakeLLM(), subreddit="freelance")
    assert isinstance(outcome, DraftGenerated)
    assert outcome.draft.warnings == ["no_profile"]
    assert "No community profile" in (sink.events[0].message or "")
    assert outcome.draft.scores.rhythm_match == 5.0


@pytest.mark.parametrize("interval", [0.0, 0.1])
async def test_progress_coalesces_chunks_by_time(interval: float) -> None:
    now = [0.0]
    sink = Sink()
    progress = Progress(request().task_id, sink, interval=interval, clock=lambda: now[0])
    for piece in ["a", "b", "c", "d"]:
        now[0] += 0.04
        await progress.chunk(piece)
    await progress.flush()
    contents = [e.content for e in sink.events]
    if interval == 0:
        assert contents == ["a", "b", "c", "d"]
    else:
        assert contents == ["abc", "d"]  # flushed once 0.12 s had passed, then the rest


def test_invalid_configuration_names_the_setting_not_its_value() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "GENERATOR_LLM_TEMPERATURE": "sk-very-secret-value"}
    done = subprocess.run(
        [sys.executable, "-m", "bcrao_generator"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "GENERATOR_LLM_TEMPERATURE" in done.stderr
    assert "sk-very-secret-value" not in done.stderr + done.stdout


# --- A user's catastrophic pattern never stalls another user's generation --------------------

CATASTROPHIC = "(a+)+$"  # exponential in the run of a's under a backtracking engine
ATTACK_TEXT = "Title: A question\n\n" + "a" * 30_000 + "b is what I keep typing. Is that odd?"


def _attacker_entry() -> BlacklistEntry:
    return BlacklistEntry(
        id=UUID(int=666), pattern=CATASTROPHIC, kind="regex", description="user's own pattern"
    )


def _request(task: int, **overrides: object) -> GenerateRequested:
    return request(task_id=UUID(int=task), **overrides)  # type: ignore[arg-type]


async def _generate(
    req: GenerateRequested, llm: FakeLLM, **kwargs: float
) -> tuple[DraftGenerated | GenerationFailed, Sink]:
    sink = Sink()
    progress = Progress(req.task_id, sink, interval=0)
    return await run_generation(req, llm=llm, progress=progress, **kwargs), sink


class HeldValidation:
    """Holds the attacker's validation (on whatever thread runs it) until released; the real
    validation then runs. If validation ran on the event loop, holding it would hold every task."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.threads: list[int] = []
        real = rules_validation.validate

        def validate(title: str, body: str, **kwargs: Any) -> ValidationReport:
            self.threads.append(threading.get_ident())
            if any(entry.pattern == CATASTROPHIC for entry in kwargs["blacklist"]):
                self.entered.set()
                self.release.wait(timeout=60)
            return real(title, body, **kwargs)

        monkeypatch.setattr(rules_validation, "validate", validate)


async def test_a_bystander_completes_while_another_users_pattern_is_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = HeldValidation(monkeypatch)
    attacker_req = _request(1, blacklist=[_attacker_entry()])
    attacker = asyncio.create_task(_generate(attacker_req, FakeLLM(text=ATTACK_TEXT)))
    assert await asyncio.to_thread(held.entered.wait, 60), "the attacker never reached validation"

    bystander, sink = await _generate(_request(2), FakeLLM())

    assert isinstance(bystander, DraftGenerated)
    assert sink.stages() == list(Stage)  # every stage, as for anyone else
    assert not attacker.done()  # still validating: the bystander did not wait for it
    held.release.set()
    outcome, _ = await attacker
    assert isinstance(outcome, DraftGenerated)
    assert outcome.draft.validation.blacklist_hits == []  # the text ends in "?", not "a"
    assert threading.get_ident() not in held.threads  # never on the event loop's thread


async def test_the_catastrophic_pattern_itself_is_checked_in_linear_time() -> None:
    text = "Title: A question\n\nWhat do you call this?\n\n" + "a" * 30_000
    outcome, _ = await _generate(
        _request(3, blacklist=[_attacker_entry()]), FakeLLM(text=text), validation_timeout=60
    )
    assert isinstance(outcome, DraftGenerated)
    [hit] = outcome.draft.validation.blacklist_hits
    assert hit.matched_text == "a" * 30_000


async def test_a_validation_past_its_deadline_fails_that_task_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = HeldValidation(monkeypatch)
    try:
        outcome, sink = await _generate(
            _request(4, blacklist=[_attacker_entry()]),
            FakeLLM(text=ATTACK_TEXT),
            validation_timeout=0.05,
        )
    finally:
        held.release.set()
    assert isinstance(outcome, GenerationFailed)
    assert outcome.code is ErrorCode.GENERATION_FAILED
    assert outcome.details["reason"] == "validation_timeout"
    assert Stage.SCORING not in sink.stages()
    bystander, _ = await _generate(_request(5), FakeLLM())
    assert isinstance(bystander, DraftGenerated)


async def test_a_high_severity_hit_on_the_llm_path_gets_one_repair_round() -> None:
    entry = BlacklistEntry(
        id=UUID(int=77),
        pattern="spreadsheet",
        kind=BlacklistKind.LITERAL,
        description="tools talk reads as an ad here",
        severity=Severity.HIGH,
    )
    req = request("SaaS", Archetype.PROBLEM_SOLUTION, AccountStatus.ESTABLISHED).model_copy(
        update={"blacklist": [entry]}
    )
    async with serve(fake_openai.create_app()) as url:
        settings = Settings(
            llm_api_key=fake_openai.API_KEY,
            llm_base_url=f"{url}/v1",
            llm_model="m",
            llm_fallback_model="m",
            llm_prices={"m": (1.0, 2.0)},
        )
        llm = OpenAILLM(settings)
        sink = Sink()
        try:
            outcome = await run_generation(
                req, llm=llm, progress=Progress(req.task_id, sink, interval=0)
            )
        finally:
            await llm.aclose()
        async with httpx.AsyncClient() as client:
            sent = (await client.get(f"{url}/_requests")).json()["requests"]
    assert isinstance(outcome, DraftGenerated)
    draft = outcome.draft
    assert len(sent) == 2  # bounded: the draft, then one repair
    assert sent[1]["messages"][-2]["role"] == "assistant"
    assert '- remove "spreadsheet"' in sent[1]["messages"][-1]["content"]
    assert "spreadsheet" not in draft.body.lower()
    assert draft.validation.blacklist_hits == []
    assert draft.validation.repaired == ['remove "spreadsheet" (tools talk reads as an ad here)']
    params = draft.generation_params
    assert params.repair_prompt_tokens == fake_openai.PROMPT_TOKENS
    assert params.repair_completion_tokens
    assert draft.token_count == params.prompt_tokens + params.completion_tokens
    assert params.prompt_tokens == 2 * fake_openai.PROMPT_TOKENS  # both rounds are paid for
    assert any(e.restart for e in sink.events)  # the stream was told the text starts over


@dataclass
class RepairingLLM:
    """Writes a draft with a long title and a link; the repair round gets `fixed` back."""

    first: str
    fixed: str
    calls: list[LLMRequest] = field(default_factory=list)
    name: str = "fake-model"

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        self.calls.append(call)
        text = self.first if len(self.calls) == 1 else self.fixed
        await on_text(text)
        return LLMResult(text, self.name, 100, 50, 0.001, "stop", 1)


async def test_failed_community_rules_get_the_repair_round_with_each_rule_listed() -> None:
    body = (
        "Chasing late invoices ate my Fridays for months.\n\n"
        "I wrote it all down at https://github.com/me/notes if anyone wants the details.\n\n"
        "How do you handle clients who go quiet?"
    )
    long_title = "Title: " + "Two years of chasing late invoices taught me far more than I wanted"
    llm = RepairingLLM(
        first=f"{long_title}\n\n{body}",
        fixed="Title: Chasing late invoices\n\n"
        + body.replace(" at https://github.com/me/notes", ""),
    )
    base = _request(31)
    assert base.profile is not None
    rules = CommunityRequirements(links_allowed=False, title_max_length=40)
    req = base.model_copy(
        update={"profile": base.profile.model_copy(update={"requirements": rules})}
    )
    outcome, sink = await _generate(req, llm)  # type: ignore[arg-type]
    assert isinstance(outcome, DraftGenerated)
    assert len(llm.calls) == 2  # one bounded repair round
    asked = llm.calls[1].prompt.follow_up[-1][1]
    assert "- Title length: The title has 67 characters; r/SaaS wants at most 40" in asked
    assert "- Links not allowed here: r/SaaS does not allow links" in asked
    draft = outcome.draft
    assert draft.title == "Chasing late invoices"
    assert "github.com" not in draft.body
    assert all(v.passed for v in draft.validation.rule_verdicts)
    assert not draft.validation.needs_review
    assert [p.split(":")[0] for p in draft.validation.repaired] == [
        "Title length",
        "Links not allowed here",
    ]
    assert any(e.restart for e in sink.events)
