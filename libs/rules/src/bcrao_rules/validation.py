"""The validation report: blacklist hits, machine-written tells, links and sentence figures.

Nothing is dropped here: every hit is reported, and high-severity blacklist hits mark the draft
for review. Category strings are part of the stored report, so they do not change lightly.
The generator validates a draft and draft-store validates the user's edits with this one module.

The built-in checks below are fixed patterns written for Python's `re`; only the users' blacklist
patterns run on RE2 (see `blacklist.py`), because only those are untrusted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from bcrao_contracts.enums import Severity
from bcrao_contracts.models import BlacklistEntry, BlacklistHit, MachineTellHit, ValidationReport

from . import writing
from .blacklist import PatternError, compile_pattern
from .textstats import avg_sentence_length, find_links, split_paragraphs, split_sentences, words

_I = re.IGNORECASE

FORMAL_TRANSITIONS = (
    "Furthermore", "Moreover", "Additionally", "In addition", "Consequently", "Nevertheless",
    "Nonetheless", "Subsequently", "Therefore", "Thus", "Hence", "Accordingly", "Notably",
)  # fmt: skip
CHATBOT_PHRASES = (
    r"I hope this helps", r"hope this helps", r"great question", r"as an AI\b",
    r"as a language model", r"I'd be happy to", r"I would be happy to", r"let me know if",
    r"delv(?:e|es|ed|ing)", r"feel free to", r"I hope this (?:post )?finds you",
    r"it'?s important to note", r"it'?s worth noting", r"in today'?s fast-paced",
)  # fmt: skip
# One list for the machine-tell check and the jargon penalty of the scores.
BUZZWORDS = (
    r"leverag(?:e|es|ed|ing)", r"synerg(?:y|ies|istic)", r"game[- ]chang(?:er|ers|ing)",
    r"revolutioni[sz](?:e|es|ed|ing)", r"revolutionary", r"seamless(?:ly)?", r"cutting[- ]edge",
    r"robust solutions?", r"streamlin(?:e|es|ed|ing)", r"paradigm shift", r"best[- ]in[- ]class",
    r"holistic", r"empower(?:s|ed|ing)?", r"disruptive", r"next[- ]level", r"world[- ]class",
    r"supercharg(?:e|es|ed|ing)", r"unlock (?:the )?(?:full )?potential",
    r"state[- ]of[- ]the[- ]art",
    r"innovative", r"actionable insights?", r"value proposition", r"end[- ]to[- ]end solutions?",
    r"scalable solutions?", r"move the needle", r"low[- ]hanging fruit", r"thought leader(?:ship)?",
)  # fmt: skip
TIDY_ENDINGS = (
    "In conclusion",
    "To sum up",
    "To summarize",
    "All in all",
    "At the end of the day",
    "In summary",
)
GREETING_RE = re.compile(
    r"^\s*(?:hey|hi|hello|greetings)\s*,?\s+"
    r"(?:everyone|everybody|all|folks|guys|y'all|friends|there|reddit(?:ors)?|r/\w+|fellow \w+)\b",
    _I,
)

_FORMAL_RE = re.compile(r"^(?:" + "|".join(FORMAL_TRANSITIONS) + r")\b", _I)
_CHATBOT_RE = re.compile(r"\b(?:" + "|".join(CHATBOT_PHRASES) + r")", _I)
BUZZWORD_RE = re.compile(r"\b(?:" + "|".join(BUZZWORDS) + r")\b", _I)
_TIDY_RE = re.compile(r"\b(?:" + "|".join(TIDY_ENDINGS) + r")\b", _I)
_BULLET_LINE = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+\S", re.MULTILINE)
_SO_OPENER = re.compile(r"^So,")
_ENUM_ALWAYS = re.compile(r"^(?:Firstly|Secondly|Thirdly)\b", _I)
_ENUM_FIRST = re.compile(r"^First(?:,| of all| off)", _I)
_ENUM_LATER = re.compile(r"^(?:Second|Third|Then|Next|Finally|Lastly)\b,?", _I)
_HEDGE_RES = (
    # "While X may be useful, it is ..." — concede, then affirm the point anyway.
    re.compile(
        r"\bwhile\b[^.!?\n]{1,80}?\b(?:may|might|can|could)\b[^.!?\n]{0,80}?,\s*"
        r"(?:it|this|that|they|there|the \w+)\s+(?:is|are|was|were|remains?|does|do|still)\b",
        _I,
    ),
    re.compile(
        r"\b(?:it|this)(?:'s| is) not (?:just|only|merely)\b[^.!?\n]{1,80}?[,;—-]\s*"
        r"(?:it|this)(?:'s| is)\b",
        _I,
    ),
    re.compile(r"\bnot only\b[^.!?\n]{1,80}?\bbut also\b", _I),
)
_VAGUE_RE = re.compile(
    r"\b(?:various|numerous|a variety of|a myriad of|myriad|countless)\s+"
    r"(?:solutions|options|tools|approaches|methods|strategies|platforms|features|benefits|resources|ways)\b",
    _I,
)
TITLE_BODY_SEPARATOR = "\n\n"
EXCLAMATION_LIMIT = 3
# Symmetric layout: 3+ paragraphs whose first and last are both shorter than 40% of the mean
# inner paragraph, and the inner paragraphs average at least 40 words (intro-body-outro shape).
SYMMETRIC_RATIO = 0.4
SYMMETRIC_MIN_MIDDLE_WORDS = 40
PHRASE_CATEGORIES = frozenset(
    {"chatbot_phrase", "corporate_buzzword", "tidy_ending", "vague_plural"}
)


def blacklist_hits(
    text: str, entries: Sequence[BlacklistEntry], *, title_length: int | None = None
) -> list[BlacklistHit]:
    """Every match of every entry. With `title_length`, `text` is the title, a blank line and the
    body, and each hit says which of the two it is in, at which offsets."""
    hits: list[BlacklistHit] = []
    for entry in entries:
        try:
            compiled = compile_pattern(entry.kind, entry.pattern)
        except PatternError:
            # Saving refuses such patterns; one stored before that rule existed cannot match.
            continue
        for start, end in compiled.finditer(text):
            hits.append(
                BlacklistHit(
                    entry_id=entry.id,
                    entry=entry.pattern,
                    description=entry.description,
                    category=entry.category,
                    severity=entry.severity,
                    matched_text=text[start:end],
                    **_location(start, end, title_length),
                )
            )
    return hits


def _location(start: int, end: int, title_length: int | None) -> dict[str, Any]:
    if title_length is None:
        return {}
    if start < title_length:
        return {"field": "title", "start": start, "end": min(end, title_length)}
    offset = title_length + len(TITLE_BODY_SEPARATOR)
    return {"field": "body", "start": max(0, start - offset), "end": end - offset}


def _hits(category: str, matches: Sequence[str]) -> list[MachineTellHit]:
    return [MachineTellHit(category=category, matched_text=m) for m in matches]


def _formal(text: str, sentences: list[str]) -> list[str]:
    return [m.group(0) for s in sentences if (m := _FORMAL_RE.match(s))]


def _regex_all(pattern: re.Pattern[str]) -> Callable[[str, list[str]], list[str]]:
    return lambda text, _sentences: [m.group(0) for m in pattern.finditer(text)]


def _bullets(text: str, _sentences: list[str]) -> list[str]:
    lines = [m.group(0).strip() for m in _BULLET_LINE.finditer(text)]
    return [f"{len(lines)} bullet lines"] if len(lines) >= 3 else []


def _greeting(text: str, _sentences: list[str]) -> list[str]:
    match = GREETING_RE.match(text)
    return [match.group(0).strip()] if match else []


def _so_opener(text: str, sentences: list[str]) -> list[str]:
    return [s[:3] for s in sentences if _SO_OPENER.match(s)]


def _symmetric(text: str, _sentences: list[str]) -> list[str]:
    lengths = [len(words(p)) for p in split_paragraphs(text)]
    if len(lengths) < 3:
        return []
    inner = lengths[1:-1]
    middle = sum(inner) / len(inner)
    limit = SYMMETRIC_RATIO * middle
    if middle >= SYMMETRIC_MIN_MIDDLE_WORDS and lengths[0] < limit and lengths[-1] < limit:
        return ["paragraph words " + "/".join(str(n) for n in lengths)]
    return []


def _enumeration(text: str, sentences: list[str]) -> list[str]:
    found = [m.group(0) for s in sentences if (m := _ENUM_ALWAYS.match(s))]
    for i, sentence in enumerate(sentences):
        first = _ENUM_FIRST.match(sentence)
        if first:
            later = [m.group(0) for s in sentences[i + 1 :] if (m := _ENUM_LATER.match(s))]
            if later:
                found += [first.group(0), *later]
            break
    return found


def _hedge(text: str, _sentences: list[str]) -> list[str]:
    return [m.group(0) for pattern in _HEDGE_RES for m in pattern.finditer(text)]


def _exclamations(text: str, _sentences: list[str]) -> list[str]:
    count = text.count("!")
    return [f"{count} exclamation marks"] if count >= EXCLAMATION_LIMIT else []


_CHECKS: tuple[tuple[str, Callable[[str, list[str]], list[str]]], ...] = (
    ("formal_transition", _formal),
    ("chatbot_phrase", _regex_all(_CHATBOT_RE)),
    ("corporate_buzzword", _regex_all(BUZZWORD_RE)),
    ("bullet_list", _bullets),
    ("generic_greeting", _greeting),
    ("so_opener", _so_opener),
    ("symmetric_layout", _symmetric),
    ("tidy_ending", _regex_all(_TIDY_RE)),
    ("enumeration", _enumeration),
    ("hedge_then_affirm", _hedge),
    ("vague_plural", _regex_all(_VAGUE_RE)),
    ("exclamations", _exclamations),
)
CATEGORIES = tuple(name for name, _ in _CHECKS)


def machine_tells(text: str) -> list[MachineTellHit]:
    sentences = split_sentences(text)
    hits: list[MachineTellHit] = []
    for category, check in _CHECKS:
        hits += _hits(category, check(text, sentences))
    return hits


def buzzwords(text: str) -> list[str]:
    """Corporate buzzwords in the text, as written (shared with the jargon penalty)."""
    return [m.group(0) for m in BUZZWORD_RE.finditer(text)]


def validate(
    title: str,
    body: str,
    *,
    blacklist: Sequence[BlacklistEntry],
    links_removed: Sequence[str],
    sources: Sequence[str] = (),
    topic: Sequence[str] = (),
    casual: bool = False,
) -> ValidationReport:
    """`sources`, `topic` and `casual` feed the writing findings (bcrao_rules.writing): the text
    that must not be pasted, what the draft must be about, and whether lowercase starts were
    asked for (the Reddit-casual humanizer level)."""
    # One text, so that a pattern spanning title and body (rare) is still found once.
    combined = f"{title}{TITLE_BODY_SEPARATOR}{body}"
    bl_hits = blacklist_hits(combined, blacklist, title_length=len(title))
    # Layout checks only make sense on the body; phrases in the title count too.
    tells = machine_tells(body)
    tells += [hit for hit in machine_tells(title) if hit.category in PHRASE_CATEGORIES]
    return ValidationReport(
        blacklist_hits=bl_hits,
        machine_tells=tells,
        writing_findings=writing.findings(title, body, sources=sources, topic=topic, casual=casual),
        link_count=len(find_links(combined)),
        links_removed=list(links_removed),
        sentence_count=len(split_sentences(body)),
        avg_sentence_length=avg_sentence_length(body),
        needs_review=any(hit.severity is Severity.HIGH for hit in bl_hits),
    )
