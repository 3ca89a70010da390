"""Per-rule verdicts: each rule that applies passes or fails with its reason and location."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bcrao_contracts import demo
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.models import (
    CommunityProfile,
    GenerationParams,
    PromptCampaign,
    ValidationReport,
)
from bcrao_contracts.requirements import CommunityRequirements
from bcrao_rules.edits import check_edit
from bcrao_rules.gating import check_gating
from bcrao_rules.verdicts import (
    RuleInputs,
    check_rules,
    failed_labels,
    product_names,
    rule_inputs,
    suggest_flair,
    with_verdicts,
)
from pydantic import ValidationError

from .factories import CAMPAIGN_ID

PRODUCT = demo.CAMPAIGN.product_context
URL = str(demo.CAMPAIGN.product_url)


def inputs(
    *,
    zero_links: bool = False,
    mention: str = "natural",
    promo: str = "normal",
    requirements: CommunityRequirements | None = None,
) -> RuleInputs:
    return RuleInputs(
        subreddit="SaaS",
        zero_links=zero_links,
        product_mention=mention,  # type: ignore[arg-type]
        promotional_language=promo,  # type: ignore[arg-type]
        strict_because="a warming-up account",
        product_names=product_names(PRODUCT, URL),
        product_host="invoicely.example.com",
        requirements=requirements,
    )


def by_rule(verdicts: list) -> dict:  # type: ignore[type-arg]
    return {v.rule: v for v in verdicts}


def test_product_names_come_from_the_context_subject_and_the_web_address() -> None:
    assert product_names(PRODUCT, URL) == ("Invoicely",)
    assert product_names("Plotwise helps gardeners plan beds.", "https://www.plotwise.io") == (
        "Plotwise",
    )
    assert product_names("a planner for raised beds", "https://app.example.org") == ()


def test_no_rules_apply_to_an_unconstrained_request_without_requirements() -> None:
    assert check_rules("A title", "Some text https://x.org", None, inputs()) == []


def test_zero_links_fails_on_a_link_and_says_where() -> None:
    body = "First paragraph.\n\nI wrote it up at https://blog.example.org/post."
    verdict = by_rule(check_rules("Title", body, None, inputs(zero_links=True)))[
        "gating.zero_links"
    ]
    assert not verdict.passed
    assert "warming-up account" in verdict.reason
    assert "blog.example.org" in verdict.reason
    (where,) = verdict.locations
    assert where.field == "body"
    assert body[where.start : where.end] == "https://blog.example.org/post"


def test_zero_links_passes_without_links() -> None:
    verdict = check_rules("Title", "No links here.", None, inputs(zero_links=True))[0]
    assert verdict.passed
    assert verdict.locations == []


def test_the_product_only_in_the_last_paragraph() -> None:
    rules = inputs(mention="last_paragraph")
    late = "I chased invoices for years.\n\nThen I built Invoicely."
    early = "Invoicely saved me.\n\nI chased invoices for years.\n\nAnyway, thoughts?"
    ok = by_rule(check_rules("Late payments", late, None, rules))["gating.product_last_paragraph"]
    bad = by_rule(check_rules("Late payments", early, None, rules))["gating.product_last_paragraph"]
    assert ok.passed
    assert not bad.passed
    assert [(loc.field, loc.start, loc.text) for loc in bad.locations] == [("body", 0, "Invoicely")]
    in_title = by_rule(check_rules("Why I built invoicely", late, None, rules))[
        "gating.product_last_paragraph"
    ]
    assert not in_title.passed
    assert "in the title" in in_title.reason


def test_asking_for_help_only_means_no_product_name_and_no_pitch() -> None:
    rules = inputs(mention="none", promo="minimal", zero_links=True)
    text = "I'm trying Invoicely, free trial is 14 days. Sign up and DM me for a discount."
    verdicts = by_rule(check_rules("How do you chase invoices?", text, None, rules))
    assert not verdicts["gating.no_product_mention"].passed
    pitch = verdicts["gating.no_pitch"]
    assert not pitch.passed
    assert [loc.text for loc in pitch.locations] == ["free trial", "Sign up", "DM me", "discount"]
    clean = by_rule(check_rules("How do you chase invoices?", "How do you all do it?", None, rules))
    assert clean["gating.no_product_mention"].passed
    assert clean["gating.no_pitch"].passed


def test_title_length_bounds() -> None:
    rules = inputs(requirements=CommunityRequirements(title_min_length=20, title_max_length=40))
    short = by_rule(check_rules("Too short", "Body.", None, rules))["community.title_length"]
    assert not short.passed
    assert "9 characters" in short.reason
    assert "20–40" in short.reason
    assert short.locations[0].field == "title"
    assert short.locations[0].end == 9
    ok = by_rule(check_rules("A title of a fine length", "Body.", None, rules))
    assert ok["community.title_length"].passed


def test_links_not_allowed_by_the_community() -> None:
    rules = inputs(requirements=CommunityRequirements(links_allowed=False))
    verdict = by_rule(check_rules("T", "See [my notes](https://notes.example.org)", None, rules))
    assert not verdict["community.no_links"].passed
    assert verdict["community.no_links"].locations[0].text == "https://notes.example.org"


def test_allowed_and_banned_link_sites() -> None:
    req = CommunityRequirements(
        allowed_link_domains=["github.com", "https://www.gitlab.com/"],
        banned_link_domains=["bit.ly"],
    )
    assert req.allowed_link_domains == ["github.com", "gitlab.com"]
    rules = inputs(requirements=req)
    body = "Code at https://github.com/me/x and docs at https://docs.github.com, https://bit.ly/x"
    verdicts = by_rule(check_rules("T", body, None, rules))
    outside = verdicts["community.allowed_link_sites"]
    assert not outside.passed
    assert [loc.text for loc in outside.locations] == ["https://bit.ly/x"]
    assert outside.allowed == ["github.com", "gitlab.com"]
    assert not verdicts["community.banned_link_sites"].passed
    fine = by_rule(check_rules("T", "Code at https://github.com/me/x", None, rules))
    assert fine["community.allowed_link_sites"].passed
    assert fine["community.banned_link_sites"].passed


def test_a_required_flair_from_a_list() -> None:
    rules = inputs(requirements=CommunityRequirements(required_flairs=["Question", "Showcase"]))
    missing = by_rule(check_rules("T", "B", None, rules))["community.flair"]
    assert not missing.passed
    assert "requires a flair" in missing.reason
    assert missing.allowed == ["Question", "Showcase"]
    wrong = by_rule(check_rules("T", "B", "Meme", rules))["community.flair"]
    assert not wrong.passed
    assert "“Meme” is not a flair" in wrong.reason
    assert by_rule(check_rules("T", "B", "showcase", rules))["community.flair"].passed


def test_words_banned_in_titles_match_whole_words_in_any_case() -> None:
    rules = inputs(requirements=CommunityRequirements(banned_title_words=["help", "PSA"]))
    bad = by_rule(check_rules("Please HELP: psa about invoices", "B", None, rules))
    verdict = bad["community.banned_title_words"]
    assert not verdict.passed
    assert [(loc.start, loc.text) for loc in verdict.locations] == [(7, "HELP"), (13, "psa")]
    fine = by_rule(check_rules("Helpful tools for invoices", "B", None, rules))
    assert fine["community.banned_title_words"].passed


def test_a_failed_rule_marks_the_report_needs_review() -> None:
    rules = inputs(zero_links=True)
    verdicts = check_rules("T", "https://x.org", None, rules)
    report = with_verdicts(ValidationReport(), verdicts)
    assert report.needs_review
    assert failed_labels(report) == ["No links"]
    passing = with_verdicts(ValidationReport(), check_rules("T", "none", None, rules))
    assert not passing.needs_review
    assert failed_labels(passing) == []


def test_an_edit_is_checked_against_the_rules() -> None:
    report = check_edit(
        "T",
        "I added https://x.org",
        blacklist=[],
        profile=None,
        checked_at=datetime(2026, 1, 1, tzinfo=UTC),
        rules=inputs(zero_links=True),
    )
    assert report.validation.needs_review
    assert report.validation.rule_verdicts[0].rule == "gating.zero_links"


def test_rule_inputs_follow_the_drafts_gating_outcome_and_the_profile() -> None:
    decision = check_gating(Archetype.JOURNEY, AccountStatus.WARMING_UP, 6.4)
    params = GenerationParams(
        prompt_version="t",
        subreddit="SaaS",
        archetype=Archetype.JOURNEY,
        account_status=AccountStatus.WARMING_UP,
        campaign=PromptCampaign(id=CAMPAIGN_ID),
        product_mention=decision.product_mention,
        zero_links=decision.zero_links,
        promotional_language=decision.promotional_language,
    )
    profile = CommunityProfile(
        subreddit="SaaS",
        isc_score=6.4,
        avg_sentence_length=15,
        formality_level=8,
        requirements=CommunityRequirements(title_max_length=100),
    )
    got = rule_inputs(params, product_context=PRODUCT, product_url=URL, profile=profile)
    assert got.zero_links
    assert got.product_mention == "last_paragraph"
    assert got.strict_because == "a warming-up account"
    assert got.requirements == profile.requirements
    rules = [v.rule for v in check_rules("T", "B", None, got)]
    assert rules == ["gating.zero_links", "gating.product_last_paragraph", "community.title_length"]


def test_the_suggested_flair_fits_the_archetype() -> None:
    req = CommunityRequirements(required_flairs=["Showcase", "Feedback wanted", "Discussion"])
    assert suggest_flair(req, Archetype.FEEDBACK) == "Feedback wanted"
    assert suggest_flair(req, Archetype.PROBLEM_SOLUTION) == "Discussion"
    assert (
        suggest_flair(CommunityRequirements(required_flairs=["Misc"]), Archetype.JOURNEY) == "Misc"
    )
    assert suggest_flair(None, Archetype.JOURNEY) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"title_min_length": 50, "title_max_length": 10},
        {"allowed_link_domains": ["not a domain"]},
        {"title_max_length": 301},
        {"links_allowed": "no"},
    ],
)
def test_requirements_refuse_bad_input(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError):
        CommunityRequirements.model_validate(bad)
