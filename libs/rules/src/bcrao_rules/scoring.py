"""Draft scores, each 0-10, stored with the figures behind them and a one-line explanation each.

overall = (0.2·vulnerability + 0.2·rhythm + 0.15·formality + 0.15·burstiness) / 0.7
          − 0.15·jargon − 0.15·links, clamped to 0-10.
The positive weights are divided by their sum (0.7) so that a draft with the best sub-scores and
no penalties reaches 10; the penalties subtract at their own weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bcrao_contracts.models import CommunityProfile, Scores, WritingFinding

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
    {
        "struggled", "struggling", "struggle", "frustrated", "frustrating", "confused",
        "confusing", "worried", "worry", "worrying", "stuck", "anxious", "scared", "overwhelmed",
        "annoyed", "tired", "embarrassed", "stressed", "nervous", "afraid", "exhausted", "unsure",
        "lost", "hate", "hated", "panicked", "terrified", "burnt", "burned",
    }
)  # fmt: skip
STORY_WORDS = frozenset(
    {
        "learned", "learnt", "realized", "realised", "journey", "discovered", "decided", "tried",
        "failed", "started", "quit", "lesson", "lessons", "mistake", "mistakes",
    }
)  # fmt: skip
POSITIVE_WEIGHTS: dict[str, float] = {
    "vulnerability": 0.2,
    "rhythm_match": 0.2,
    "formality_match": 0.15,
    "burstiness": 0.15,
}
PENALTY_WEIGHTS: dict[str, float] = {"jargon_penalty": 0.15, "link_penalty": 0.15}
POSITIVE_TOTAL = sum(POSITIVE_WEIGHTS.values())
NO_PROFILE_SCORE = 5.0
# Human sentence lengths vary a lot (CV around 0.5-0.8); machine text is even (around 0.2-0.3).
# Burstiness rises linearly with the CV and saturates at CV 0.6.
BURSTINESS_FULL_CV = 0.6
# Jargon: 2 points per buzzword per 100 words, capped at 10 (5 per 100 words is unreadable).
JARGON_POINTS_PER_PERCENT = 2.0
POINTS_PER_LINK = 3
MAX_COUNTED_LINKS = 3
FORMALITY_POINTS_PER_GRADE = 2.0
# UI bands, lowest score of each, best first; applied to the value shown (one decimal).
SCORE_BANDS: tuple[tuple[float, str], ...] = (
    (8.0, "excellent"),
    (6.0, "good"),
    (4.0, "moderate"),
    (0.0, "low"),
)
SHOWN_DECIMALS = 1
# A draft with writing findings (bcrao_rules.writing) cannot band above "moderate": the overall
# score is capped just below "good", whatever the surface features say.
WRITING_FINDINGS_CAP = 5.9


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
    return float(min(max(link_count, 0), MAX_COUNTED_LINKS) * POINTS_PER_LINK)


def burstiness_from_cv(cv: float) -> float:
    return _clamp(10.0 * cv / BURSTINESS_FULL_CV)


def jargon_penalty(jargon_count: int, word_count: int) -> float:
    if word_count == 0:
        return 0.0
    return _clamp(JARGON_POINTS_PER_PERCENT * 100.0 * jargon_count / word_count)


def overall_score(parts: dict[str, float]) -> float:
    positive = sum(w * parts[k] for k, w in POSITIVE_WEIGHTS.items()) / POSITIVE_TOTAL
    penalty = sum(w * parts[k] for k, w in PENALTY_WEIGHTS.items())
    return _clamp(positive - penalty)


def band(score: float) -> str:
    """The band of the score as shown (rounded to one decimal), so "4.0" is never "low"."""
    shown = round(score, SHOWN_DECIMALS)
    return next(label for low, label in SCORE_BANDS if shown >= low)


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _findings_line(findings: Sequence[WritingFinding]) -> str:
    if not findings:
        return "no writing findings: nothing capped"
    kinds = ", ".join(dict.fromkeys(f.kind.replace("_", " ") for f in findings))
    return (
        f"{_plural(len(findings), 'writing finding')} ({kinds}): the overall score is capped "
        f"at {WRITING_FINDINGS_CAP:g} (moderate) until they are fixed"
    )


def _explain(parts: dict[str, float], overall: float, facts: dict[str, Any]) -> dict[str, str]:
    c = facts["counts"]
    vulnerability = (
        f"{_plural(c['pronouns'], 'first-person word')}, "
        f"{_plural(c['questions'], 'question')}, "
        f"{_plural(c['emotion_words'], 'emotion word')} and "
        f"{_plural(c['story_words'], 'story word')} ({c['n']} in all) give "
        f"{parts['vulnerability']:.1f}"
    )
    if facts["profile"]:
        rhythm = (
            f"sentences average {facts['draft_avg']:.1f} words, the community "
            f"{facts['community_avg']:.1f}: 10 minus the gap of "
            f"{abs(facts['draft_avg'] - facts['community_avg']):.1f}"
        )
        formality = (
            f"grade level {facts['draft_grade']:.1f}, "
            f"the community {facts['community_grade']:.1f}: "
            f"10 minus {FORMALITY_POINTS_PER_GRADE:g} per grade of the gap of "
            f"{abs(facts['draft_grade'] - facts['community_grade']):.1f}"
        )
    else:
        rhythm = formality = f"no community profile to compare with: neutral {NO_PROFILE_SCORE:g}"
    if facts["sentence_count"] < 2:
        burstiness = "fewer than two sentences: no variation in length to measure"
    else:
        burstiness = (
            f"sentence lengths vary by {facts['cv']:.0%} of their mean "
            f"(full marks from {BURSTINESS_FULL_CV:.0%}; machine text is often near 25%)"
        )
    terms = facts["jargon_terms"]
    jargon = (
        f"{_plural(len(terms), 'buzzword')} in {_plural(facts['word_count'], 'word')} "
        f"({', '.join(dict.fromkeys(t.lower() for t in terms))}) subtract "
        f"{parts['jargon_penalty']:.1f}"
        if terms
        else "no corporate buzzwords: nothing subtracted"
    )
    links = facts["links"]
    link = (
        f"{_plural(links, 'link')}: {POINTS_PER_LINK} points each, up to {MAX_COUNTED_LINKS}"
        if links
        else "no links: nothing subtracted"
    )
    positive = sum(w * parts[k] for k, w in POSITIVE_WEIGHTS.items()) / POSITIVE_TOTAL
    penalties = sum(w * parts[k] for k, w in PENALTY_WEIGHTS.items())
    summary = (
        f"weighted sub-scores {positive:.2f} minus penalties {penalties:.2f} = {overall:.1f} "
        f"({band(overall)})"
    )
    if facts["findings"] and facts["uncapped"] > overall:
        summary = (
            f"weighted sub-scores {positive:.2f} minus penalties {penalties:.2f} = "
            f"{facts['uncapped']:.1f}, capped at {overall:.1f} ({band(overall)}) by "
            f"{_plural(len(facts['findings']), 'writing finding')}"
        )
    return {
        "vulnerability": vulnerability,
        "rhythm_match": rhythm,
        "formality_match": formality,
        "burstiness": burstiness,
        "jargon_penalty": jargon,
        "link_penalty": link,
        "overall": summary,
        "writing_findings": _findings_line(facts["findings"]),
    }


def score(
    body: str,
    *,
    profile: CommunityProfile | None,
    link_count: int,
    findings: Sequence[WritingFinding] = (),
) -> Scores:
    """The scores of a body; `findings` (the validation report's writing findings) cap the
    overall score at WRITING_FINDINGS_CAP."""
    counts = vulnerability_counts(body)
    vulnerability = vulnerability_from_count(counts["n"])

    draft_avg = avg_sentence_length(body)
    draft_grade = flesch_kincaid_grade(body)
    if profile is None:
        rhythm = formality = NO_PROFILE_SCORE
    else:
        rhythm = _clamp(10.0 - abs(draft_avg - profile.avg_sentence_length))
        formality = _clamp(
            10.0 - FORMALITY_POINTS_PER_GRADE * abs(draft_grade - profile.formality_level)
        )

    lengths = sentence_lengths(body)
    cv = coefficient_of_variation(lengths)
    jargon_terms = buzzwords(body)
    word_count = len(words(body))

    parts = {
        "vulnerability": round(vulnerability, 2),
        "rhythm_match": round(rhythm, 2),
        "formality_match": round(formality, 2),
        "burstiness": round(burstiness_from_cv(cv), 2),
        "jargon_penalty": round(jargon_penalty(len(jargon_terms), word_count), 2),
        "link_penalty": round(link_penalty(link_count), 2),
    }
    uncapped = round(overall_score(parts), 2)
    overall = min(uncapped, WRITING_FINDINGS_CAP) if findings else uncapped
    facts: dict[str, Any] = {
        "findings": list(findings),
        "uncapped": uncapped,
        "counts": counts,
        "profile": profile is not None,
        "draft_avg": draft_avg,
        "community_avg": profile.avg_sentence_length if profile else None,
        "draft_grade": draft_grade,
        "community_grade": profile.formality_level if profile else None,
        "sentence_count": len(lengths),
        "cv": cv,
        "jargon_terms": jargon_terms,
        "word_count": word_count,
        "links": link_count,
    }
    breakdown: dict[str, Any] = {
        **counts,
        "draft_avg_sentence_length": draft_avg,
        "community_avg_sentence_length": facts["community_avg"],
        "draft_grade_level": draft_grade,
        "community_grade_level": facts["community_grade"],
        "sentence_count": len(lengths),
        "cv": round(cv, 4),
        "word_count": word_count,
        "jargon_terms": jargon_terms,
        "links": link_count,
        "weights": {**POSITIVE_WEIGHTS, **{k: -w for k, w in PENALTY_WEIGHTS.items()}},
        "positive_weight_total": round(POSITIVE_TOTAL, 4),
        "profile": profile is not None,
        "band": band(overall),
        "writing_findings": len(findings),
        "uncapped_overall": uncapped,
        "explanations": _explain(parts, overall, facts),
    }
    return Scores(**parts, overall=overall, breakdown=breakdown)
