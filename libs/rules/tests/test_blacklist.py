"""Blacklist patterns on RE2: what is refused when saved, how literals and regexes match."""

from __future__ import annotations

from uuid import uuid4

import pytest
from bcrao_contracts.enums import BlacklistKind, Severity
from bcrao_contracts.models import BlacklistEntry
from bcrao_rules.blacklist import PatternError, compile_pattern, pattern_problem
from bcrao_rules.validation import blacklist_hits, validate

LITERAL, REGEX = BlacklistKind.LITERAL, BlacklistKind.REGEX


def spans(kind: BlacklistKind, pattern: str, text: str) -> list[str]:
    return [text[a:b] for a, b in compile_pattern(kind, pattern).finditer(text)]


def test_a_literal_matches_whole_words_in_any_case() -> None:
    assert spans(LITERAL, "my app", "Check out My App today, MY APP rocks") == ["My App", "MY APP"]
    assert spans(LITERAL, "my app", "my apple pie and tommy app") == []


def test_literal_boundaries_know_non_ascii_letters() -> None:
    # RE2's \b is ASCII-only; "café" must still end at a word boundary and not inside "cafés".
    assert spans(LITERAL, "café", "Le CAFÉ, un café.") == ["CAFÉ", "café"]
    assert spans(LITERAL, "café", "les cafés") == []


def test_a_literal_is_never_read_as_a_regex() -> None:
    assert spans(LITERAL, "(free)", "get it (FREE) now") == ["(FREE)"]
    assert spans(LITERAL, "a.b", "axb a.b") == ["a.b"]
    # no letter at its edges, so no boundary needed there
    assert spans(LITERAL, "?utm_", "x.com/?utm_source=reddit") == ["?utm_"]


def test_a_regex_runs_as_written() -> None:
    assert spans(REGEX, r"use (my )?code \w+", "Use my code REDDIT20! or use code X") == [
        "use code X"
    ]
    assert spans(REGEX, r"(?i)use (my )?code \w+", "Use my code REDDIT20!") == [
        "Use my code REDDIT20"
    ]


def test_a_regex_that_matches_nothing_never_hits() -> None:
    assert spans(REGEX, r"x*", "abc") == []


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid escape sequence"),  # backreference
        (r"(?=promo)", "invalid perl operator"),  # lookahead
        (r"(?<!no )deal", "invalid perl operator"),  # lookbehind
        (r"(unclosed", "missing )"),
        (r"a{5000}", "invalid repetition size"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match="cannot be used") as caught:
        compile_pattern(REGEX, pattern)
    assert reason in str(caught.value)
    assert pattern_problem(REGEX, pattern) == str(caught.value)
    assert pattern_problem(LITERAL, pattern) is None  # the same text is fine as a literal


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time() -> None:
    # With a backtracking engine this takes 2^n steps; RE2 answers at once for any n.
    text = "a" * 100_000 + "!"
    assert spans(REGEX, r"(a+)+$", text) == []
    assert spans(REGEX, r"(a+)+!$", text) == [text]


def test_entries_re2_refuses_are_skipped_in_validation() -> None:
    # Stored before RE2 was the engine (contracts only check Python's syntax): never a crash.
    stale = BlacklistEntry(id=uuid4(), pattern=r"(?=deal)deal", kind="regex", description="old")
    good = BlacklistEntry(id=uuid4(), pattern="deal", description="promo", severity=Severity.HIGH)
    hits = blacklist_hits("a great deal", [stale, good])
    assert [(h.entry_id, h.matched_text) for h in hits] == [(good.id, "deal")]


def test_hits_in_a_report_say_where_they_are() -> None:
    entry = BlacklistEntry(id=uuid4(), pattern="my app", description="self promotion")
    title, body = "Why my app failed", "I built it.\n\nThen MY APP got one user."
    report = validate(title, body, blacklist=[entry], links_removed=[])
    located = [(h.field, h.start, h.end) for h in report.blacklist_hits]
    assert located == [("title", 4, 10), ("body", 18, 24)]
    assert title[4:10] == "my app"
    assert body[18:24] == "MY APP"
