"""Draft scores (DOMAIN.md "Scores"): each 0-10, stored with the figures behind them."""

from __future__ import annotations

from typing import Any

from bcrao_contracts.models import CommunityProfile, Scores

from .textstats import (
    avg_sentence_length,
    coefficient_of_variation,
    flesch_kincaid_grade,
    sentence_lengths,
    words,
)
from .validation import buzzwords

# "we/our" are not counted: a "we" voice reads as a company speaking, and vulnerability is about
# one person exposing their own doubts.
FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll"})
EMOTION_WORDS = frozenset(
    [
        "struggled",
        "struggling",
        "struggle",
        "frustrated",
        "frustrating",
        "confused",
        "confusing",
        "worried",
        "worry",
        "worrying",
        "stuck",
        "anxious",
        "scared",
        "overwhelmed",
        "annoyed",
        "tired",
        "embarrassed",
        "stressed",
        "nervous",
        "afraid",
        "exhausted",
        "unsure",
        "lost",
        "hate",
        "hated",
        "panicked",
        "terrified",
        "burnt",
        "burned",
    ]
)
STORY_WORDS = frozenset(
    [
        "learned",
        "learnt",
        "realized",
        "realised",
        "journey",
        "discovered",
        "decided",
        "tried",
        "failed",
        "started",
        "quit",
        "lesson",
        "lessons",
        "mistake",
        "mistakes",
    ]
)
WEIGHTS: dict[str, float] = {
    "vulnerability": 0.2,
    "rhythm_match": 0.2,
    "formality_match": 0.15,
    "burstiness": 0.15,
    "jargon_penalty": -0.15,
    "link_penalty": -0.15,
}
NO_PROFILE_SCORE = 5.0
# Human sentence lengths vary a lot (CV around 0.5-0.8); machine text is even (around 0.2-0.3).
# Burstiness rises linearly with the CV and saturates at CV 0.6.
BURSTINESS_FULL_CV = 0.6
# Jargon: 2 points per buzzword per 100 words, capped at 10 (5 per 100 words is unreadable).
JARGON_POINTS_PER_PERCENT = 2.0


def _clamp(value: float, low: float = 0.0, high: float = 10.0) -> float:
    return max(low, min(high, value))


def vulnerability_from_count(n: int) -> float:
    if n <= 0:
        return 0.0
    if n <= 3:
        return 3.0
    if n <= 6:
        return 5.0
    if n <= 10:
        return 7.0
    return min(10.0, 7.0 + 0.3 * (n - 10))


def link_penalty(link_count: int) -> float:
    return float(min(max(link_count, 0), 3) * 3)


def burstiness_from_cv(cv: float) -> float:
    return _clamp(10.0 * cv / BURSTINESS_FULL_CV)


def jargon_penalty(jargon_count: int, word_count: int) -> float:
    if word_count == 0:
        return 0.0
    return _clamp(JARGON_POINTS_PER_PERCENT * 100.0 * jargon_count / word_count)


def band(score: float) -> str:
    if score >= 8:
        return "excellent"
    if score >= 6:
        return "good"
    if score >= 4:
        return "moderate"
    return "low"


def vulnerability_counts(body: str) -> dict[str, int]:
    tokens = [t.lower().replace("’", "'") for t in words(body)]
    counts = {
        "pronouns": sum(t in FIRST_PERSON for t in tokens),
        "questions": body.count("?"),
        "emotion_words": sum(t in EMOTION_WORDS for t in tokens),
        "story_words": sum(t in STORY_WORDS for t in tokens),
    }
    counts["n"] = sum(counts.values())
    return counts


def score(body: str, *, profile: CommunityProfile | None, link_count: int) -> Scores:
    counts = vulnerability_counts(body)
    vulnerability = vulnerability_from_count(counts["n"])

    draft_avg = avg_sentence_length(body)
    draft_grade = flesch_kincaid_grade(body)
    if profile is None:
        rhythm = formality = NO_PROFILE_SCORE
    else:
        rhythm = _clamp(10.0 - abs(draft_avg - profile.avg_sentence_length))
        formality = _clamp(10.0 - 2.0 * abs(draft_grade - profile.formality_level))

    cv = coefficient_of_variation(sentence_lengths(body))
    burstiness = burstiness_from_cv(cv)
    jargon_terms = buzzwords(body)
    word_count = len(words(body))
    jargon = jargon_penalty(len(jargon_terms), word_count)
    links = link_penalty(link_count)

    parts = {
        "vulnerability": round(vulnerability, 2),
        "rhythm_match": round(rhythm, 2),
        "formality_match": round(formality, 2),
        "burstiness": round(burstiness, 2),
        "jargon_penalty": round(jargon, 2),
        "link_penalty": round(links, 2),
    }
    overall = round(_clamp(sum(WEIGHTS[k] * v for k, v in parts.items())), 2)
    breakdown: dict[str, Any] = {
        **counts,
        "draft_avg_sentence_length": draft_avg,
        "community_avg_sentence_length": profile.avg_sentence_length if profile else None,
        "draft_grade_level": draft_grade,
        "community_grade_level": profile.formality_level if profile else None,
        "sentence_count": len(sentence_lengths(body)),
        "cv": round(cv, 4),
        "word_count": word_count,
        "jargon_terms": jargon_terms,
        "links": link_count,
        "weights": dict(WEIGHTS),
        "profile": profile is not None,
    }
    return Scores(**parts, overall=overall, breakdown=breakdown)
