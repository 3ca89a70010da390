"""`make eval`'s matrix holds the targets of issue 23, and each of its checks can fail."""

from __future__ import annotations

import shutil
import uuid

import pytest
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_generator.eval_matrix import CAMPAIGNS
from bcrao_generator.evaluation import (
    TARGETS,
    campaign_request,
    evaluate,
    generate,
    grammar,
    missed,
    own_checks,
    totals,
)
from bcrao_generator.languagetool import LanguageToolServer
from bcrao_generator.llm import LLMRequest, LLMResult, OfflineComposer, OnRestart, OnText
from bcrao_generator.obedience import failed_rules, product_markers
from bcrao_generator.prompt import generation_params
from bcrao_rules.gating import check_gating

OFFLINE = OfflineComposer(chunk_delay_ms=0)
FIELDS = {c.field for c in CAMPAIGNS}


@pytest.fixture(scope="module")
async def result() -> dict[str, object]:
    return await evaluate(OFFLINE)


def test_the_matrix_spans_unrelated_fields() -> None:
    for wanted in ("consumer app", "B2B tool", "physical product", "local service", "game",
                   "non-profit", "hardware", "education"):  # fmt: skip
        assert wanted in FIELDS
    assert all(c.feedback for c in CAMPAIGNS)


async def test_the_offline_composer_holds_the_targets(result: dict[str, object]) -> None:
    summary = totals(result, with_languagetool=False)
    assert summary["drafts"] >= 200
    assert missed(summary) == [], summary
    assert set(TARGETS) - set(summary) == {"languagetool_per_100_words"}


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("java") is None, reason="LanguageTool needs Java 17+")
async def test_languagetool_finds_at_most_0_3_matches_per_100_words(
    result: dict[str, object],
) -> None:
    with LanguageToolServer() as server:
        broken = server.check(["It was a awful week. the beds were a mess."])
        assert {m.rule for m in broken[0]} >= {"EN_A_VS_AN", "UPPERCASE_SENTENCE_START"}
        grammar(result["cases"], server)  # type: ignore[arg-type]
    summary = totals(result, with_languagetool=True)
    assert summary["languagetool_per_100_words"] <= 0.3, summary


class _Scripted:
    """The LLM port writing a fixed text: drafts with the defects each check must find."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        await on_text(self.text)
        return LLMResult(self.text, self.name, 0, 0, 0.0, "stop", 1)


async def _checks(text: str, status: AccountStatus = AccountStatus.ESTABLISHED) -> set[str]:
    plotwise = next(c for c in CAMPAIGNS if c.key == "plotwise")
    request = campaign_request(plotwise, Archetype.FEEDBACK, status).model_copy(
        update={"task_id": uuid.uuid4()}
    )
    outcome = await generate(_Scripted(text), request)  # type: ignore[arg-type]
    assert outcome is not None
    decision = check_gating(request.archetype, request.account_status, plotwise.isc)
    return {f.check for f in own_checks(request, decision, outcome)}


async def test_each_check_finds_its_defect() -> None:
    clean = (
        "Title: What am I missing about raised beds?\n\nI have a plan for raised beds. "
        "What would you change first?"
    )
    assert await _checks(clean) == set()
    assert "leaked" in await _checks(clean + " I answered support emails from my laptop.")
    assert "pasted" in await _checks(
        clean + " My raised beds were a mess last year, the tomatoes shaded everything."
    )
    assert "quoted_sample" in await _checks(clean + ' People here mention "widget" a lot.')
    assert "contradiction" in await _checks(
        "Title: Eight months on raised beds\n\nI spent three months on raised beds. Why?"
    )
    assert "self_blacklist" in await _checks(clean + " Plotwise helped.")
    assert "gating" in await _checks(clean + " A garden-planning app helped.", AccountStatus.NEW)


def test_failed_rules_name_each_broken_rule_gating_and_community() -> None:
    trailpack = next(c for c in CAMPAIGNS if c.key == "trailpack")
    assert trailpack.requirements is not None  # a community with posting rules
    request = campaign_request(trailpack, Archetype.FEEDBACK, AccountStatus.WARMING_UP)
    decision = check_gating(Archetype.FEEDBACK, AccountStatus.WARMING_UP, trailpack.isc)
    params = generation_params(request, decision)
    body = "Trailpack is what I use, see https://trailpack.example.com.\n\nWhat would you change?"
    failed = {v.rule for v in failed_rules(request, params, "A title", body, "Gear")}
    assert failed == {
        "gating.zero_links",
        "gating.product_last_paragraph",
        "community.title_length",
        "community.banned_link_sites",
    }
    # The short description the composer would write counts as naming the product.
    new = campaign_request(trailpack, Archetype.FEEDBACK, AccountStatus.NEW)
    new_params = generation_params(new, check_gating(Archetype.FEEDBACK, AccountStatus.NEW, 4.0))
    described = f"I bought {product_markers(new)[0]} last spring. What would you change?"
    assert {
        v.rule
        for v in failed_rules(new, new_params, "A long enough title, surely", described, "Gear")
    } >= {"gating.no_product_mention"}
    # A success story around the product is a pitch where promotion must stay minimal.
    lingolane = next(c for c in CAMPAIGNS if c.key == "lingolane")
    story = campaign_request(lingolane, Archetype.FEEDBACK, AccountStatus.ESTABLISHED)
    story_decision = check_gating(Archetype.FEEDBACK, AccountStatus.ESTABLISHED, lingolane.isc)
    assert story_decision.promotional_language == "minimal"
    story_params = generation_params(story, story_decision)
    told = "In the end I switched to Lingolane, and it stuck. What would you change?"
    assert "gating.no_pitch" in {
        v.rule for v in failed_rules(story, story_params, "A title", told, None)
    }
    plain = "I ended up with a mess of notes. What would you change?"
    assert "gating.no_pitch" not in {
        v.rule for v in failed_rules(story, story_params, "A title", plain, None)
    }
