"""Score formulas of DOMAIN.md, each with a worked example."""

from __future__ import annotations

import pytest
from bcrao_rules.scoring import (
    band,
    burstiness_from_cv,
    jargon_penalty,
    link_penalty,
    overall_score,
    score,
    vulnerability_counts,
    vulnerability_from_count,
)
from bcrao_rules.textstats import avg_sentence_length, flesch_kincaid_grade, syllables
from bcrao_rules.validation import machine_tells

from .factories import profile

SAAS = profile("SaaS")
assert SAAS is not None


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 0.0), (1, 3.0), (3, 3.0), (4, 5.0), (6, 5.0), (7, 7.0), (10, 7.0), (11, 7.3),
     (15, 8.5), (20, 10.0), (40, 10.0)],
)  # fmt: skip
def test_vulnerability_bands(n: int, expected: float) -> None:
    assert vulnerability_from_count(n) == pytest.approx(expected)


def test_vulnerability_counts_worked_example() -> None:
    body = "I was stuck and frustrated. Did I learn anything? I realized my mistake. We shipped."
    counts = vulnerability_counts(body)
    # I, I, I, my (not "we"); one "?"; stuck, frustrated; realized, mistake
    assert counts == {
        "pronouns": 4,
        "questions": 1,
        "emotion_words": 2,
        "story_words": 2,
        "n": 9,
    }
    assert score(body, profile=None, link_count=0).vulnerability == 7.0


def test_contractions_and_lowercase_i_count_as_first_person() -> None:
    assert vulnerability_counts("i'm sure I’ve seen me do it myself")["pronouns"] == 4


def test_rhythm_match_worked_example() -> None:
    body = "One two three four five six seven eight nine ten. " * 3  # avg 10 words
    assert avg_sentence_length(body) == 10
    assert score(body, profile=SAAS, link_count=0).rhythm_match == pytest.approx(10 - 7.3)
    assert score(body, profile=None, link_count=0).rhythm_match == 5.0


def test_rhythm_match_clamps_at_zero() -> None:
    body = "Paid. Late. Again."  # avg 1, community 17.3
    assert score(body, profile=SAAS, link_count=0).rhythm_match == 0.0


def test_flesch_kincaid_worked_example() -> None:
    # rea-son-a-ble 4, or-ga-ni-za-tions 5, com-mu-ni-cate 4, clear-ly 2 -> 15 syllables / 4 words
    assert [syllables(w) for w in ("Reasonable", "organizations", "communicate", "clearly")] == [
        4,
        5,
        4,
        2,
    ]
    expected = 0.39 * 4 + 11.8 * 15 / 4 - 15.59
    assert flesch_kincaid_grade("Reasonable organizations communicate clearly.") == pytest.approx(
        expected, abs=0.01
    )
    assert flesch_kincaid_grade("The cat sat on the mat.") == 0.0  # -1.45 floored


def test_formality_match_worked_example() -> None:
    body = "Reasonable organizations communicate clearly."
    grade = flesch_kincaid_grade(body)  # 30.22
    near = SAAS.model_copy(update={"formality_level": grade - 1.5})
    assert score(body, profile=near, link_count=0).formality_match == pytest.approx(7.0)
    assert score(body, profile=SAAS, link_count=0).formality_match == 0.0  # clamped
    assert score(body, profile=None, link_count=0).formality_match == 5.0


@pytest.mark.parametrize(("cv", "expected"), [(0.0, 0.0), (0.3, 5.0), (0.6, 10.0), (1.2, 10.0)])
def test_burstiness_mapping(cv: float, expected: float) -> None:
    assert burstiness_from_cv(cv) == pytest.approx(expected)


def test_burstiness_worked_example() -> None:
    body = "I was stuck. I was stuck and frustrated for weeks."  # lengths 3 and 7
    scores = score(body, profile=None, link_count=0)
    assert scores.breakdown["cv"] == pytest.approx(0.4)  # mean 5, population sd 2
    assert scores.burstiness == pytest.approx(6.67)  # 10 * 0.4 / 0.6
    assert score("Same length here. Same length here.", profile=None, link_count=0).burstiness == 0


@pytest.mark.parametrize(
    ("hits", "words", "expected"),
    [(0, 100, 0.0), (1, 100, 2.0), (1, 50, 4.0), (9, 100, 10.0), (1, 0, 0.0)],
)
def test_jargon_penalty(hits: int, words: int, expected: float) -> None:
    assert jargon_penalty(hits, words) == pytest.approx(expected)


def test_jargon_uses_the_validation_buzzword_list() -> None:
    for text in ("We leverage data.", "A seamless flow.", "Pure synergy.", "Plain words only."):
        flagged = any(h.category == "corporate_buzzword" for h in machine_tells(text))
        assert bool(score(text, profile=None, link_count=0).breakdown["jargon_terms"]) is flagged


@pytest.mark.parametrize(("links", "expected"), [(0, 0.0), (1, 3.0), (2, 6.0), (3, 9.0), (7, 9.0)])
def test_link_penalty(links: int, expected: float) -> None:
    assert link_penalty(links) == expected
    assert score("Text.", profile=None, link_count=links).link_penalty == expected


def _parts(v: float, r: float, f: float, b: float, j: float = 0, lk: float = 0) -> dict[str, float]:
    return {
        "vulnerability": v,
        "rhythm_match": r,
        "formality_match": f,
        "burstiness": b,
        "jargon_penalty": j,
        "link_penalty": lk,
    }


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        # the best sub-scores and no penalties reach the top of the scale
        (_parts(10, 10, 10, 10), 10.0),
        # the draft (vulnerability 10, rhythm 6): (2 + 1.2 + 0.75 + 0.75) / 0.7
        (_parts(10, 6, 5, 5), 6.71),
        # (1.4 + 1.6 + 0.9 + 0.75) / 0.7 = 6.643, minus 0.15 * 2 + 0.15 * 3 = 0.75
        (_parts(7, 8, 6, 5, j=2, lk=3), 5.89),
        # (1 + 0.75) / 0.7 = 2.5, minus 1.5 + 1.35: below 0, clamped
        (_parts(0, 5, 5, 0, j=10, lk=9), 0.0),
    ],
)
def test_overall_worked_examples(parts: dict[str, float], expected: float) -> None:
    assert round(overall_score(parts), 2) == expected


def test_overall_of_a_scored_text() -> None:
    body = "I was stuck. I was stuck and frustrated for weeks."
    scores = score(body, profile=None, link_count=0)
    # n = 2 pronouns + 3 emotion words = 5 -> 5; no profile -> 5 and 5; burstiness 6.67
    assert (scores.vulnerability, scores.rhythm_match, scores.formality_match) == (5.0, 5.0, 5.0)
    assert scores.burstiness == 6.67
    # (0.2 * 5 + 0.2 * 5 + 0.15 * 5 + 0.15 * 6.67) / 0.7 = 3.7505 / 0.7
    assert scores.overall == 5.36
    assert scores.breakdown["band"] == "moderate"


def test_every_score_is_explained_in_one_line() -> None:
    body = "We leverage a seamless tool. It works. Honestly it took me three weeks to set up."
    scores = score(body, profile=SAAS, link_count=2)
    explanations = scores.breakdown["explanations"]
    assert set(explanations) == {
        "vulnerability", "rhythm_match", "formality_match", "burstiness",
        "jargon_penalty", "link_penalty", "overall", "writing_findings",
    }  # fmt: skip
    assert all("\n" not in line and line for line in explanations.values())
    assert "leverage, seamless" in explanations["jargon_penalty"]
    assert explanations["link_penalty"].startswith("2 links")
    assert "17.3" in explanations["rhythm_match"]  # the community's average it is compared with
    assert f"= {scores.overall:.1f}" in explanations["overall"]


def test_without_a_profile_the_explanation_says_so() -> None:
    explanations = score("Plain text here.", profile=None, link_count=0).breakdown["explanations"]
    assert "no community profile" in explanations["rhythm_match"]
    assert explanations["burstiness"].startswith("fewer than two sentences")
    assert explanations["jargon_penalty"] == "no corporate buzzwords: nothing subtracted"


def test_overall_is_clamped_at_zero() -> None:
    scores = score("Leverage synergy now.", profile=None, link_count=3)
    assert scores.jargon_penalty == 10.0
    assert scores.link_penalty == 9.0
    assert scores.overall == 0.0  # (1 + 0.75) / 0.7 - 1.5 - 1.35 < 0


def test_breakdown_holds_the_inputs() -> None:
    body = "I tried a seamless tool. Did it work? No."
    breakdown = score(body, profile=SAAS, link_count=1).breakdown
    assert breakdown["n"] == 3  # I, tried, ?
    assert breakdown["community_avg_sentence_length"] == 17.3
    assert breakdown["community_grade_level"] == 7.9
    assert breakdown["draft_avg_sentence_length"] == pytest.approx(avg_sentence_length(body))
    assert breakdown["jargon_terms"] == ["seamless"]
    assert breakdown["links"] == 1
    assert breakdown["weights"]["link_penalty"] == -0.15


@pytest.mark.parametrize(
    ("value", "expected"),
    [(10, "excellent"), (8, "excellent"), (7.94, "good"), (6, "good"), (5.94, "moderate"),
     (4, "moderate"), (3.94, "low"), (0, "low"),
     # on the value shown with one decimal: 7.96 shows as 8.0, 3.96 as 4.0
     (7.96, "excellent"), (5.95, "good"), (3.96, "moderate")],
)  # fmt: skip
def test_band_of_the_value_shown(value: float, expected: str) -> None:
    assert band(value) == expected
