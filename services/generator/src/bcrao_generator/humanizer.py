"""Deterministic humanizer: removes machine tells and roughens the polish of generated text.

Three levels (`HumanizerLevel`, per campaign, DOMAIN.md): `off` only removes machine tells;
`light` (the default) adds a few fillers that read as written on purpose ("Honestly, ...",
"..., honestly."), an em-dash for a semicolon and sometimes a short closing line, and never a
lowercase start after a full stop or an ending without punctuation; `casual` (Reddit-casual) adds
lowercase starts, tbh/ngl/idk fillers, a self-correction, a casual "anyway" and a dropped final
period, and the validation report knows they were asked for.

The RNG is seeded from the task id so a draft can be reproduced. Paragraph breaks are structure
the author chose, so they are never merged; only a paragraph made entirely of removed tells goes.
URLs and code are swapped for placeholders first, so nothing inside them is rewritten.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bcrao_contracts.enums import HumanizerLevel
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
LIGHT_PREFIXES = ("Honestly, ",)
LIGHT_SUFFIXES = (", honestly",)
LIGHT_ENDINGS = ("Curious what others think.", "Anyway, that's where I am.")
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


@dataclass(frozen=True)
class Odds:
    """How often each roughening happens, before scaling by the draft's intensity (0.25-0.7).

    One place for every probability, so tuning the humanizer is a change of numbers here, and a
    test can switch a transform off by setting its odds to zero.
    """

    lowercase_start: float = 0.5  # per sentence after the first
    filler_share: float = 0.3  # share of middle sentences that get a filler ...
    max_fillers: int = 3  # ... but never more than this many
    filler_as_suffix: float = 0.35  # "... tbh." rather than "tbh ..." (not scaled)
    capitalised_filler: float = 0.5  # "Honestly, ..." rather than "honestly, ..." (not scaled)
    self_correction: float = 0.6
    em_dash: float = 0.7
    casual_ending: float = 0.6
    dropped_period: float = 0.6


DEFAULT_ODDS = Odds()
Slot = tuple[int, int, int]  # (paragraph, line, sentence)


class _Text:
    """The parsed draft with positions of its prose sentences, in reading order."""

    def __init__(self, paragraphs: list[_Paragraph]) -> None:
        self.paragraphs = paragraphs

    def slots(self) -> list[Slot]:
        return [
            (pi, li, si)
            for pi, paragraph in enumerate(self.paragraphs)
            for li, line in enumerate(paragraph.lines)
            if line.prose
            for si in range(len(line.sentences))
        ]

    def middle(self) -> list[Slot]:
        return self.slots()[1:-1]

    def get(self, slot: Slot) -> str:
        return self.paragraphs[slot[0]].lines[slot[1]].sentences[slot[2]]

    def put(self, slot: Slot, value: str) -> None:
        self.paragraphs[slot[0]].lines[slot[1]].sentences[slot[2]] = value

    def line_of(self, slot: Slot) -> _Line:
        return self.paragraphs[slot[0]].lines[slot[1]]


def _add_filler(sentence: str, rng: random.Random, odds: Odds) -> str:
    if sentence.lower().startswith(FILLERS):
        return sentence
    as_suffix = sentence.endswith(".") and not sentence.endswith("..")
    if as_suffix and rng.random() < odds.filler_as_suffix:
        return sentence[:-1] + rng.choice(FILLER_SUFFIXES) + "."
    lowered = _lower_start(sentence)
    if lowered[:1].isupper() and not re.match(r"I\b", lowered):
        # A proper noun (or a word we may not lowercase) starts the sentence: "tbh Stripe..."
        # reads like a typo, so the filler goes at the end, or not at all.
        return sentence[:-1] + rng.choice(FILLER_SUFFIXES) + "." if as_suffix else sentence
    prefix = rng.choice(FILLER_PREFIXES)
    if rng.random() < odds.capitalised_filler:
        prefix = _capitalize(prefix)
    return prefix + lowered


def _casual_ending(last: str, rng: random.Random) -> str:
    options = (
        [e for e in CASUAL_ENDINGS if "think" not in e] if last.endswith("?") else CASUAL_ENDINGS
    )
    return rng.choice(list(options))


def _add_light_filler(sentence: str, rng: random.Random) -> str:
    """A filler that reads as written on purpose: capitalised in front, or after a comma."""
    if sentence.lower().startswith(FILLERS) or "honestly" in sentence.lower():
        return sentence
    if "," in " ".join(sentence.split()[:3]):
        return sentence  # "Looking back, ..." already opens with an aside
    lowered = _lower_start(sentence)
    if lowered != sentence or re.match(r"I\b", sentence):
        return rng.choice(LIGHT_PREFIXES) + lowered
    if sentence.endswith(".") and not sentence.endswith(".."):
        return sentence[:-1] + rng.choice(LIGHT_SUFFIXES) + "."
    return sentence


# -- the transforms, applied in this order; each draws from the same seeded RNG ----------------


def lowercase_starts(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """Some sentence starts in lower case (never the first sentence, a proper noun or "I")."""
    for slot in text.slots()[1:]:
        if rng.random() < odds.lowercase_start * intensity:
            text.put(slot, _lower_start(text.get(slot)))


def casual_fillers(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """A few fillers (honestly, tbh, ngl, I mean, idk, fwiw) in middle sentences only."""
    middle = text.middle()
    if not middle:
        return
    count = min(odds.max_fillers, round(intensity * len(middle) * odds.filler_share))
    if count == 0 and rng.random() < intensity:
        count = 1
    for slot in sorted(rng.sample(middle, min(count, len(middle)))):
        text.put(slot, _add_filler(text.get(slot), rng, odds))


def self_correction(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """Occasionally "slow -- wait actually, more like really slow" in a middle sentence."""
    middle = text.middle()
    if not middle or rng.random() >= odds.self_correction * intensity:
        return
    candidates = [s for s in middle if _ADJECTIVES.search(text.get(s))]
    if candidates:
        chosen = rng.choice(candidates)
        sentence = text.get(chosen)
        match = _ADJECTIVES.search(sentence)
        assert match is not None  # chosen among the sentences that have one
        word = match.group(1)
        fix = f"{word} -- wait actually, more like {rng.choice(_INTENSIFIERS)} {word}"
        text.put(chosen, sentence[: match.start()] + fix + sentence[match.end() :])


def em_dash(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """Occasionally an em-dash where a semicolon or colon joined two clauses."""
    if rng.random() >= odds.em_dash * intensity:
        return
    dashable = [s for s in text.slots() if _DASHABLE.search(text.get(s))]
    if dashable:
        chosen = rng.choice(dashable)
        text.put(chosen, _DASHABLE.sub(" — ", text.get(chosen), count=1))


def casual_ending(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """Sometimes a casual last sentence ("anyway", "curious what others think")."""
    slots = text.slots()
    if not slots:
        return
    last = slots[-1]
    line = text.line_of(last)
    already = any(e.lower().rstrip(".") in " ".join(line.sentences).lower() for e in CASUAL_ENDINGS)
    if rng.random() < odds.casual_ending * intensity and not already:
        line.sentences.append(_casual_ending(text.get(last), rng))


def dropped_period(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """Sometimes the very last period goes."""
    slots = text.slots()
    if not slots:
        return
    final = text.get(slots[-1])
    if (
        final.endswith(".")
        and not final.endswith("..")
        and rng.random() < odds.dropped_period * intensity
    ):
        text.put(slots[-1], final[:-1])


def light_fillers(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """One or two fillers in middle sentences, written like a person writes them on purpose."""
    middle = text.middle()
    if not middle:
        return
    count = min(2, round(intensity * len(middle) * odds.filler_share))
    if count == 0 and rng.random() < intensity:
        count = 1
    for slot in sorted(rng.sample(middle, min(count, len(middle)))):
        text.put(slot, _add_light_filler(text.get(slot), rng))


def light_ending(text: _Text, rng: random.Random, intensity: float, odds: Odds) -> None:
    """Sometimes a short, fully punctuated closing line (not after a question)."""
    slots = text.slots()
    if not slots or text.get(slots[-1]).endswith("?"):
        return
    line = text.line_of(slots[-1])
    if rng.random() < odds.casual_ending * intensity * 0.5:
        line.sentences.append(rng.choice(LIGHT_ENDINGS))


Transform = Callable[[_Text, random.Random, float, Odds], None]
TRANSFORMS: tuple[Transform, ...] = (
    lowercase_starts,
    casual_fillers,
    self_correction,
    em_dash,
    casual_ending,
    dropped_period,
)
LEVELS: dict[HumanizerLevel, tuple[Transform, ...]] = {
    HumanizerLevel.OFF: (),
    HumanizerLevel.LIGHT: (light_fillers, em_dash, light_ending),
    HumanizerLevel.CASUAL: TRANSFORMS,
}


def humanize(
    text: str,
    *,
    seed: str,
    grade_level: float | None,
    odds: Odds = DEFAULT_ODDS,
    level: HumanizerLevel = HumanizerLevel.LIGHT,
) -> str:
    """Machine tells out, then each transform of the level in turn; paragraph breaks are always
    kept."""
    if not text.strip():
        return text
    rng = seeded_random(seed)
    intensity = intensity_for_grade(grade_level)
    protected, saved = _protect(text)
    parsed = _Text(_remove_tells(_parse(protected)))
    for transform in LEVELS[level]:
        transform(parsed, rng, intensity, odds)
    result = _restore(_render(parsed.paragraphs), saved).strip()
    return result or text.strip()
