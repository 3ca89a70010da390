"""Deterministic humanizer: removes machine tells and roughens the polish of generated text.

The RNG is seeded from the task id so a draft can be reproduced. Paragraph breaks are structure
the author chose, so they are never merged; only a paragraph made entirely of removed tells goes.
URLs and code are swapped for placeholders first, so nothing inside them is rewritten.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field

from bcrao_rules.textstats import sentence_spans, split_paragraphs
from bcrao_rules.validation import GREETING_RE

_PLACEHOLDER = "\ue000{}\ue001"
_PROTECTED = re.compile(r"```.*?```|`[^`\n]+`|(?:https?://|www\.)[^\s<>()\[\]]+", re.DOTALL | re.I)
_RESTORE = re.compile("\ue000(\\d+)\ue001")
_STRUCTURED_LINE = re.compile(r"^\s*(?:[-*•+>#|]|\d{1,2}[.)]\s|\ue000)")

_GREETING_PREFIX = re.compile(GREETING_RE.pattern + r"[\s!,.:;—-]*", re.I)
_TIDY_SENTENCE = re.compile(r"^(?:in conclusion|to sum up|to summarize|in summary)\b", re.I)
_HERES_THE_THING = re.compile(r"^here(?:'|’)?s the thing\b[\s:,.!—-]*", re.I)
_TRANSITION_PREFIX = re.compile(r"^(?:furthermore|moreover|additionally|in addition)\b[\s,]*", re.I)
_HOPE_HELPS = re.compile(r"\bhope (?:this|that|it) helps\b", re.I)

# Only these sentence starters get lowercased: a whitelist cannot hit a proper noun or "I".
COMMON_STARTERS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "it's",
        "its",
        "there",
        "there's",
        "then",
        "so",
        "but",
        "and",
        "or",
        "if",
        "when",
        "while",
        "after",
        "before",
        "because",
        "since",
        "most",
        "some",
        "many",
        "every",
        "each",
        "one",
        "my",
        "our",
        "we",
        "we're",
        "what",
        "how",
        "why",
        "which",
        "just",
        "also",
        "now",
        "still",
        "even",
        "maybe",
        "not",
        "no",
        "yes",
        "turns",
        "anyway",
        "plus",
        "for",
        "in",
        "on",
        "at",
        "with",
        "from",
        "by",
        "to",
        "looking",
        "thinking",
        "back",
        "last",
        "next",
        "once",
        "spent",
        "paid",
        "took",
        "got",
        "had",
        "was",
        "is",
        "are",
        "did",
        "does",
    ]
)
FILLER_PREFIXES = ("honestly, ", "tbh ", "ngl ", "I mean, ", "fwiw, ")
FILLER_SUFFIXES = (", idk", " tbh", " honestly")
FILLERS = ("honestly", "tbh", "ngl", "i mean", "idk", "fwiw")
CASUAL_ENDINGS = ("anyway", "Anyway.", "curious what others think", "Curious what others think.")
_ADJECTIVES = re.compile(
    r"\b(annoying|hard|slow|messy|weird|expensive|bad|painful|confusing|frustrating|tedious|"
    r"stressful|useful|simple|easy|awkward|tricky|brutal)\b"
)
_INTENSIFIERS = ("really", "pretty", "super")
_DASHABLE = re.compile(r"(?<=\w)[;:] (?=\S)")


def intensity_for_grade(grade: float | None) -> float:
    if grade is None:
        return 0.5
    if grade < 3:
        return 0.7
    if grade < 5:
        return 0.6
    if grade < 7:
        return 0.45
    if grade < 9:
        return 0.35
    return 0.25


def seeded_random(seed: str) -> random.Random:
    """hash() is salted per process; a digest keeps the output stable across runs."""
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))


@dataclass
class _Line:
    indent: str
    sentences: list[str]
    prose: bool


@dataclass
class _Paragraph:
    lines: list[_Line] = field(default_factory=list)


def _protect(text: str) -> tuple[str, list[str]]:
    saved: list[str] = []

    def swap(match: re.Match[str]) -> str:
        saved.append(match.group(0))
        return _PLACEHOLDER.format(len(saved) - 1)

    return _PROTECTED.sub(swap, text), saved


def _restore(text: str, saved: list[str]) -> str:
    return _RESTORE.sub(lambda m: saved[int(m.group(1))], text)


def _capitalize(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:] if sentence[:1].islower() else sentence


def _lower_start(sentence: str) -> str:
    match = re.match(r"([A-Z][a-z]*(?:'[a-z]+)?)\b", sentence)
    if match and match.group(1).lower() in COMMON_STARTERS and match.group(1) != "I":
        return sentence[0].lower() + sentence[1:]
    return sentence


def _strip_tells(sentence: str, *, first_in_text: bool) -> str:
    """The sentence without machine tells; "" when the whole sentence was a tell."""
    if first_in_text:
        sentence = _capitalize(_GREETING_PREFIX.sub("", sentence, count=1))
    if _TIDY_SENTENCE.match(sentence) or _HOPE_HELPS.search(sentence):
        return ""
    stripped = _HERES_THE_THING.sub("", sentence, count=1)
    stripped = _TRANSITION_PREFIX.sub("", stripped, count=1)
    if stripped != sentence:
        stripped = _capitalize(stripped)
    return "" if not re.search(r"\w", stripped) else stripped


def _parse(text: str) -> list[_Paragraph]:
    paragraphs: list[_Paragraph] = []
    for block in split_paragraphs(text):
        paragraph = _Paragraph()
        for raw in block.split("\n"):
            indent = raw[: len(raw) - len(raw.lstrip())]
            line = raw.strip()
            prose = not _STRUCTURED_LINE.match(line)
            sentences = [line[a:b] for a, b in sentence_spans(line)] if prose else [line]
            paragraph.lines.append(_Line(indent, sentences, prose))
        paragraphs.append(paragraph)
    return paragraphs


def _render(paragraphs: list[_Paragraph]) -> str:
    blocks = []
    for paragraph in paragraphs:
        lines = [ln.indent + " ".join(ln.sentences) for ln in paragraph.lines if ln.sentences]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _remove_tells(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    first = True
    for paragraph in paragraphs:
        for line in paragraph.lines:
            if not line.prose:
                first = False
                continue
            kept = []
            for sentence in line.sentences:
                cleaned = _strip_tells(sentence, first_in_text=first)
                first = False
                if cleaned:
                    kept.append(cleaned)
            line.sentences = kept
    return [p for p in paragraphs if any(ln.sentences for ln in p.lines)]


def _add_filler(sentence: str, rng: random.Random) -> str:
    if sentence.lower().startswith(FILLERS):
        return sentence
    as_suffix = sentence.endswith(".") and not sentence.endswith("..")
    if as_suffix and rng.random() < 0.35:
        return sentence[:-1] + rng.choice(FILLER_SUFFIXES) + "."
    lowered = _lower_start(sentence)
    if lowered[:1].isupper() and not re.match(r"I\b", lowered):
        # A proper noun (or a word we may not lowercase) starts the sentence: "tbh Stripe..."
        # reads like a typo, so the filler goes at the end, or not at all.
        return sentence[:-1] + rng.choice(FILLER_SUFFIXES) + "." if as_suffix else sentence
    prefix = rng.choice(FILLER_PREFIXES)
    if rng.random() < 0.5:
        prefix = _capitalize(prefix)
    return prefix + lowered


def _self_correct(sentence: str, rng: random.Random) -> str:
    match = _ADJECTIVES.search(sentence)
    if not match:
        return sentence
    word = match.group(1)
    fix = f"{word} -- wait actually, more like {rng.choice(_INTENSIFIERS)} {word}"
    return sentence[: match.start()] + fix + sentence[match.end() :]


def _casual_ending(last: str, rng: random.Random) -> str:
    options = (
        [e for e in CASUAL_ENDINGS if "think" not in e] if last.endswith("?") else CASUAL_ENDINGS
    )
    return rng.choice(list(options))


def humanize(text: str, *, seed: str, grade_level: float | None) -> str:
    if not text.strip():
        return text
    rng = seeded_random(seed)
    intensity = intensity_for_grade(grade_level)
    protected, saved = _protect(text)
    paragraphs = _remove_tells(_parse(protected))
    # (paragraph, line, sentence) positions of prose sentences, in reading order.
    slots = [
        (pi, li, si)
        for pi, paragraph in enumerate(paragraphs)
        for li, line in enumerate(paragraph.lines)
        if line.prose
        for si in range(len(line.sentences))
    ]

    def get(slot: tuple[int, int, int]) -> str:
        return paragraphs[slot[0]].lines[slot[1]].sentences[slot[2]]

    def put(slot: tuple[int, int, int], value: str) -> None:
        paragraphs[slot[0]].lines[slot[1]].sentences[slot[2]] = value

    middle = slots[1:-1]
    for slot in slots[1:]:
        if rng.random() < 0.5 * intensity:
            put(slot, _lower_start(get(slot)))
    if middle:
        count = min(3, round(intensity * len(middle) * 0.3))
        if count == 0 and rng.random() < intensity:
            count = 1
        for slot in sorted(rng.sample(middle, min(count, len(middle)))):
            put(slot, _add_filler(get(slot), rng))
        if rng.random() < 0.6 * intensity:
            candidates = [s for s in middle if _ADJECTIVES.search(get(s))]
            if candidates:
                chosen = rng.choice(candidates)
                put(chosen, _self_correct(get(chosen), rng))
    if rng.random() < 0.7 * intensity:
        dashable = [s for s in slots if _DASHABLE.search(get(s))]
        if dashable:
            chosen = rng.choice(dashable)
            put(chosen, _DASHABLE.sub(" — ", get(chosen), count=1))
    if slots:
        last = slots[-1]
        line = paragraphs[last[0]].lines[last[1]]
        already = any(
            e.lower().rstrip(".") in " ".join(line.sentences).lower() for e in CASUAL_ENDINGS
        )
        if rng.random() < 0.6 * intensity and not already:
            line.sentences.append(_casual_ending(get(last), rng))
            last = (last[0], last[1], len(line.sentences) - 1)
        final = get(last)
        if final.endswith(".") and not final.endswith("..") and rng.random() < 0.6 * intensity:
            put(last, final[:-1])
    result = _restore(_render(paragraphs), saved).strip()
    return result or text.strip()
