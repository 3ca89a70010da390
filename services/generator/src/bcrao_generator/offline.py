"""The offline composer: a plausible draft without an LLM, deterministic for a task id.

Used when no LLM key is configured (demos, tests, development). It fills archetype-shaped
paragraphs from sentence banks, weaves in the user's context as their own sentences, borrows the
community's vocabulary, and obeys the gating decision exactly like the prompt asks a model to.
Templates keep the topic in object position and use the past tense where they can, so a plural or
singular topic both read correctly.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from bcrao_contracts.enums import Archetype
from bcrao_contracts.events import GenerateRequested
from bcrao_rules.gating import GatingDecision
from bcrao_rules.textstats import split_sentences, words
from bcrao_rules.validation import BUZZWORD_RE

from . import offline_bank as bank
from .humanizer import seeded_random
from .postprocess import remove_links

DEFAULT_AVG_SENTENCE = 15.0
MAX_CONTEXT_SENTENCES = 4
_INSTRUCTION = re.compile(
    r"^(?:please\s+)?(?:write|post|make|mention|focus|keep|include|talk|explain|describe|share|"
    r"use|add|avoid|don'?t|do not|emphasi[sz]e|highlight|target|aim|create|draft|generate)\b",
    re.I,
)
_ABOUT = re.compile(r"\babout\s+([^.,;:!?\n]{3,60})", re.I)
# "Acme Notes is a note-taking app": a name of up to four capitalised words, then its description.
_PRODUCT_IS = re.compile(
    r"^(?P<name>[A-Z][\w.\-]{1,40}(?:\s+[A-Z][\w.\-]{0,40}){0,3})\s+(?:is|are)\s+(?P<desc>.+)$"
)
_STOPWORDS = frozenset(
    [
        "about",
        "after",
        "again",
        "actually",
        "already",
        "always",
        "another",
        "anyone",
        "anything",
        "around",
        "because",
        "before",
        "being",
        "better",
        "between",
        "could",
        "didn't",
        "doesn't",
        "during",
        "enough",
        "every",
        "everyone",
        "first",
        "getting",
        "going",
        "having",
        "itself",
        "little",
        "really",
        "should",
        "something",
        "still",
        "their",
        "there",
        "these",
        "thing",
        "things",
        "think",
        "those",
        "though",
        "through",
        "today",
        "together",
        "under",
        "until",
        "using",
        "which",
        "while",
        "would",
        "without",
        "years",
        "people",
        "month",
        "months",
        "weeks",
    ]
)
_FEEDBACK_FLAGS = {
    "shorter": r"short|too long|concise|brief|trim|cut down|less text|wordy",
    "longer": r"longer|more detail|too short|expand|elaborate",
    "less_salesy": r"sales|promo|pitch|\bads?\b|advert|marketing|product|spam",
    "no_links": r"link|url",
    "more_questions": r"question|\bask",
    "more_personal": r"personal|vulnerab|emotion|human|story|relatable",
}


@dataclass(frozen=True)
class _Material:
    topic: str
    context: tuple[str, ...]
    vocabulary: tuple[str, ...]
    tool: str | None
    product: str | None
    target: float
    flags: frozenset[str]


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text[-1:] in ".!?" else text + "."


def _product_phrase(context: str) -> tuple[str, str | None]:
    """(phrase for a sentence, product name if one is given) from the campaign's product context."""
    first = (split_sentences(context) or [context])[0].strip().rstrip(".!")
    match = _PRODUCT_IS.match(first)
    name = match.group("name") if match else None
    desc = match.group("desc") if match else first
    desc = re.split(r"\s*[:;(—]\s*|\s+-\s+", desc, maxsplit=1)[0].strip()
    desc = " ".join(desc.split()[:14])
    if desc[:1].isupper() and desc.split()[0].lower() in {"a", "an", "the", "my", "our"}:
        desc = desc[0].lower() + desc[1:]
    return (f"{name}, {desc}" if name else desc), name


def _topic(request: GenerateRequested) -> str:
    context = request.context.lower()
    keywords = list(request.campaign.keywords)
    # Whole words only: a keyword "ai" must not be found inside "said".
    found = sorted(
        (match.start(), k)
        for k in keywords
        if (match := re.search(rf"\b{re.escape(k.lower())}\b", context)) is not None
    )
    if found:
        return found[0][1].lower() if not found[0][1].isupper() else found[0][1]
    about = _ABOUT.search(request.context)
    if about and len(about.group(1).split()) <= 8:
        return about.group(1).strip()
    return keywords[0].lower() if keywords else "this"


def _context_sentences(
    request: GenerateRequested, product_name: str | None, allow: bool
) -> tuple[str, ...]:
    text, _ = remove_links(request.context)  # the composer adds the product link itself, once
    kept: list[str] = []
    for sentence in split_sentences(text):
        if _INSTRUCTION.match(sentence) or len(words(sentence)) < 3:
            continue  # directions to the writer, not content of the post
        if product_name and not allow and product_name.lower() in sentence.lower():
            continue
        kept.append(_sentence(sentence))
    return tuple(kept[:MAX_CONTEXT_SENTENCES])


def _vocabulary(request: GenerateRequested) -> tuple[tuple[str, ...], str | None]:
    profile = request.profile
    if profile is None:
        return (), None
    style = profile.style_guide
    avoid = {w.lower() for w in style.words_to_avoid} if style else set()
    chosen = [w for w in (style.words_to_use if style else []) if w.lower() not in avoid]
    tools = [t for t in (style.loved_tools if style else []) if t.lower() not in avoid]
    counts: Counter[str] = Counter()
    for text in [*profile.example_posts, *profile.top_success_hooks]:
        for word in words(text):
            low = word.lower()
            # Only lowercase occurrences: capitalised words are mostly names ("Google Photos").
            if (
                word.isalpha()
                and word.islower()
                and len(low) >= 6
                and low not in _STOPWORDS
                and low not in avoid
                and not low.endswith(("ly", "ed", "ing"))
                and not BUZZWORD_RE.search(low)
            ):
                counts[low] += 1
    chosen += [w for w, _ in counts.most_common(6) if w not in {c.lower() for c in chosen}]
    return tuple(chosen), (tools[0] if tools else None)


def _flags(feedback: str | None) -> frozenset[str]:
    text = (feedback or "").lower()
    return frozenset(name for name, pattern in _FEEDBACK_FLAGS.items() if re.search(pattern, text))


def _material(request: GenerateRequested, decision: GatingDecision) -> _Material:
    flags = _flags(request.feedback)
    phrase, name = _product_phrase(request.campaign.product_context)
    allow_product = decision.product_mention != "none" and "less_salesy" not in flags
    product = phrase
    url = request.campaign.product_url
    if allow_product and url and not decision.zero_links and "no_links" not in flags:
        product = f"{phrase} ({url})"
    vocabulary, tool = _vocabulary(request)
    target = request.profile.avg_sentence_length if request.profile else DEFAULT_AVG_SENTENCE
    return _Material(
        topic=_topic(request),
        context=_context_sentences(request, name, allow_product),
        vocabulary=vocabulary,
        tool=tool,
        product=product if allow_product else None,
        target=target,
        flags=flags,
    )


class _Writer:
    """Picks templates whose length lands near a per-sentence target drawn around the average."""

    def __init__(self, rng: random.Random, material: _Material) -> None:
        self.rng = rng
        self.m = material
        self.used: set[str] = set()
        self.values = {
            "topic": material.topic,
            "months": str(rng.randint(3, 9)),
            "weeks": str(rng.randint(2, 7)),
            "hours": str(rng.randint(4, 14)),
            "count": str(rng.randint(3, 9)),
            "dollars": f"{rng.randint(8, 60) * 100:,}",
            "users": str(rng.randint(12, 60)),
            "paying": str(rng.randint(2, 9)),
            "calls": str(rng.randint(9, 25)),
            "lost": str(rng.randint(5, 20)),
            "mrr": str(rng.randint(3, 30) * 10),
            "tool": material.tool or "the tool everyone recommends",
            "term": rng.choice(material.vocabulary) if material.vocabulary else material.topic,
            "product": material.product or "",
        }

    def one(self, templates: tuple[str, ...], **extra: str) -> str:
        avg = self.m.target
        # A wide spread around the community average: human sentence lengths are bursty.
        target = min(45.0, max(3.0, self.rng.gauss(avg, 0.5 * avg)))
        fresh = [t for t in templates if t not in self.used] or list(templates)
        candidates = self.rng.sample(fresh, min(4, len(fresh)))
        values = {**self.values, **extra}
        best = min(candidates, key=lambda t: abs(len(t.format(**values).split()) - target))
        self.used.add(best)
        return _sentence(best.format(**values))

    def some(self, templates: tuple[str, ...], n: int) -> list[str]:
        return [self.one(templates) for _ in range(n)]


def _sizes(flags: frozenset[str]) -> tuple[int, int]:
    """(sentences per paragraph, extra paragraphs) after the reviewer's feedback."""
    if "shorter" in flags:
        return 2, -1
    if "longer" in flags:
        return 4, 1
    return 3, 0


def _problem_solution(w: _Writer, m: _Material) -> list[list[str]]:
    per, extra = _sizes(m.flags)
    early, late = list(m.context[:2]), list(m.context[2:])
    first = [w.one(bank.PS_OPEN), *early, *w.some(bank.PS_PAIN, max(1, per - 1 - len(early)))]
    pains = [w.some(bank.PS_PAIN, per) for _ in range(extra + 1)]
    (pains[0] if pains else first).extend(late)
    if "more_personal" in m.flags:
        first.append(w.one(bank.EMOTION))
    failed = [w.one(bank.PS_FAILED_INTRO), *w.some(bank.PS_FAILED, per - 1)]
    if m.vocabulary:
        failed.append(w.one(bank.PS_COMMUNITY))
    # The fix stays one short sentence at the very end: about 90% pain, 10% solution.
    fix = [w.one(bank.PS_FIX_PRODUCT if m.product else bank.PS_FIX_PLAIN)]
    return [first, *pains, failed, fix]


def _journey(w: _Writer, m: _Material) -> list[list[str]]:
    per, extra = _sizes(m.flags)
    intro = [w.one(bank.J_INTRO), *m.context[:3]]
    if "more_personal" in m.flags:
        intro.append(w.one(bank.EMOTION))
    steps = bank.J_WHEN[: 2 + extra]
    milestones = [
        [w.one(bank.J_MILESTONE, when=when), *w.some(bank.J_DETAIL, per - 2)] for when in steps
    ]
    setback = [w.one(bank.J_SETBACK), *w.some(bank.J_SETBACK_DETAIL, max(1, per - 2))]
    now = [w.one(bank.J_NOW), w.one(bank.J_LESSON)]
    if m.product:
        # "natural" puts the product in the story; "last_paragraph" keeps it for the end.
        now.insert(1, w.one(bank.J_PRODUCT))
    if m.vocabulary and per > 2:
        now.insert(0, w.one(bank.J_COMMUNITY))
    return [intro, *milestones, setback, now]


def _feedback(w: _Writer, m: _Material) -> list[list[str]]:
    per, extra = _sizes(m.flags)
    intro = [w.one(bank.F_INTRO), *m.context[:3]]
    unsure = [w.one(bank.F_WHAT), *w.some(bank.F_UNSURE, per - 1)]
    if "more_personal" in m.flags:
        unsure.append(w.one(bank.EMOTION))
    asked = 3 if ("more_questions" in m.flags or extra > 0) else 2
    questions = [w.one(bank.F_QUESTIONS_LEAD), *w.some(bank.F_QUESTIONS, asked)]
    ending = [w.one(bank.F_CRITICISM)]
    if m.product:
        ending.insert(0, w.one(bank.F_PRODUCT))
    if m.vocabulary and extra >= 0:
        unsure.append(w.one(bank.F_COMMUNITY))
    paragraphs = [intro, unsure, questions, ending]
    if extra < 0:
        paragraphs = [intro + unsure[:1], questions, ending]
    return paragraphs


def _title(w: _Writer, archetype: Archetype) -> str:
    titles = {
        Archetype.PROBLEM_SOLUTION: bank.PS_TITLES,
        Archetype.JOURNEY: bank.J_TITLES,
        Archetype.FEEDBACK: bank.F_TITLES,
    }[archetype]
    title = w.rng.choice(titles).format(**w.values)
    return title[:1].upper() + title[1:]


def compose(request: GenerateRequested, decision: GatingDecision) -> str:
    rng = seeded_random(str(request.task_id))
    material = _material(request, decision)
    writer = _Writer(rng, material)
    # Callers only compose allowed requests; should a refused one slip through, write the
    # archetype the refusal offered rather than the one it refused.
    archetype = (
        decision.archetype
        if decision.allowed
        else (decision.forced_archetype or decision.archetype)
    )
    build = {
        Archetype.PROBLEM_SOLUTION: _problem_solution,
        Archetype.JOURNEY: _journey,
        Archetype.FEEDBACK: _feedback,
    }[archetype]
    paragraphs = [" ".join(p) for p in build(writer, material) if p]
    return f"Title: {_title(writer, archetype)}\n\n" + "\n\n".join(paragraphs)


def chunks(text: str, seed: str) -> list[str]:
    """Word groups of 2-8 words for streaming; "".join(chunks(text, seed)) == text."""
    rng = seeded_random(seed)
    tokens = re.findall(r"\s*\S+", text)
    trailing = text[len("".join(tokens)) :]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        size = rng.randint(2, 8)
        out.append("".join(tokens[i : i + size]))
        i += size
    if len(out) > 1 and len(out[-1].split()) < 2 and len(out[-2].split()) < 8:
        out[-2:] = [out[-2] + out[-1]]
    if trailing:
        out = [*out[:-1], out[-1] + trailing] if out else [trailing]
    return out
