"""Edited text is checked like generated text; history gets lengths and a short diff."""

from __future__ import annotations

from datetime import UTC, datetime

from bcrao_contracts.enums import Severity
from bcrao_rules.edits import check_edit, field_changes, short_diff

from .factories import blacklist, profile

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_an_edit_that_adds_a_promo_link_and_code_is_caught() -> None:
    body = (
        "I kept losing track of who owed me what.\n\n"
        "Check out my app at https://invoicely.example/?utm_source=reddit, use my code REDDIT20!"
    )
    report = check_edit("Chasing invoices", body, blacklist=blacklist("SaaS"), profile=None,
                        checked_at=NOW)  # fmt: skip
    assert report.validation.link_count == 1
    assert report.validation.links_removed == []
    assert report.scores.link_penalty == 3.0
    assert report.title == "Chasing invoices"
    severities = {hit.severity for hit in report.validation.blacklist_hits}
    assert report.validation.needs_review is (Severity.HIGH in severities)
    assert report.validation.blacklist_hits  # the demo blacklist has promotional entries


def test_scores_of_an_edit_use_the_community_profile() -> None:
    with_profile = check_edit("t", "I was stuck. Why?", blacklist=[], profile=profile("SaaS"),
                              checked_at=NOW)  # fmt: skip
    without = check_edit("t", "I was stuck. Why?", blacklist=[], profile=None, checked_at=NOW)
    assert with_profile.scores.breakdown["community_avg_sentence_length"] == 17.3
    assert without.scores.rhythm_match == 5.0


def test_short_diff_shows_the_changed_region_with_context() -> None:
    before = "I kept losing track of who owed me what."
    after = "I kept losing track of which client owed me what."
    # 23 characters in common before the change: the diff keeps the last 20 of them
    assert short_diff(before, after) == "…ept losing track of [who → which client] owed me what."
    long_before = "x " * 50 + "old" + " y" * 50
    long_after = "x " * 50 + "new" + " y" * 50
    assert short_diff(long_before, long_after) == "…" + "x " * 10 + "[old → new]" + " y" * 10 + "…"


def test_field_changes_skip_unchanged_fields() -> None:
    changes = field_changes({"title": ("Same", "Same"), "user_edits": ("abc", "abcdef")})
    assert [(c.field, c.before_length, c.after_length, c.diff) for c in changes] == [
        ("user_edits", 3, 6, "[abc → abcdef]")
    ]
