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

from .gating import GatingDecision
from .humanizer import seeded_random
from .postprocess import remove_links
from .textstats import split_sentences, words
from .validation import BUZZWORD_RE

DEFAULT_AVG_SENTENCE = 15.0
MAX_CONTEXT_SENTENCES = 4
_INSTRUCTION = re.compile(
    r"^(?:please\s+)?(?:write|post|make|mention|focus|keep|include|talk|explain|describe|share|"
    r"use|add|avoid|don'?t|do not|emphasi[sz]e|highlight|target|aim|create|draft|generate)\b",
    re.I,
)
_ABOUT = re.compile(r"\babout\s+([^.,;:!?\n]{3,60})", re.I)
_PRODUCT_IS = re.compile(r"^(?P<name>[A-Z][\w.\-]{1,40})\s+(?:is|are)\s+(?P<desc>.+)$")
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
    found = sorted((context.find(k.lower()), k) for k in keywords if k.lower() in context)
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
    first = [w.one(PS_OPEN), *early, *w.some(PS_PAIN, max(1, per - 1 - len(early)))]
    pains = [w.some(PS_PAIN, per) for _ in range(extra + 1)]
    (pains[0] if pains else first).extend(late)
    if "more_personal" in m.flags:
        first.append(w.one(EMOTION))
    failed = [w.one(PS_FAILED_INTRO), *w.some(PS_FAILED, per - 1)]
    if m.vocabulary:
        failed.append(w.one(PS_COMMUNITY))
    # The fix stays one short sentence at the very end: about 90% pain, 10% solution.
    fix = [w.one(PS_FIX_PRODUCT if m.product else PS_FIX_PLAIN)]
    return [first, *pains, failed, fix]


def _journey(w: _Writer, m: _Material) -> list[list[str]]:
    per, extra = _sizes(m.flags)
    intro = [w.one(J_INTRO), *m.context[:3]]
    if "more_personal" in m.flags:
        intro.append(w.one(EMOTION))
    steps = J_WHEN[: 2 + extra]
    milestones = [[w.one(J_MILESTONE, when=when), *w.some(J_DETAIL, per - 2)] for when in steps]
    setback = [w.one(J_SETBACK), *w.some(J_SETBACK_DETAIL, max(1, per - 2))]
    now = [w.one(J_NOW), w.one(J_LESSON)]
    if m.product:
        # "natural" puts the product in the story; "last_paragraph" keeps it for the end.
        now.insert(1, w.one(J_PRODUCT))
    if m.vocabulary and per > 2:
        now.insert(0, w.one(J_COMMUNITY))
    return [intro, *milestones, setback, now]


def _feedback(w: _Writer, m: _Material) -> list[list[str]]:
    per, extra = _sizes(m.flags)
    intro = [w.one(F_INTRO), *m.context[:3]]
    unsure = [w.one(F_WHAT), *w.some(F_UNSURE, per - 1)]
    if "more_personal" in m.flags:
        unsure.append(w.one(EMOTION))
    asked = 3 if ("more_questions" in m.flags or extra > 0) else 2
    questions = [w.one(F_QUESTIONS_LEAD), *w.some(F_QUESTIONS, asked)]
    ending = [w.one(F_CRITICISM)]
    if m.product:
        ending.insert(0, w.one(F_PRODUCT))
    if m.vocabulary and extra >= 0:
        unsure.append(w.one(F_COMMUNITY))
    paragraphs = [intro, unsure, questions, ending]
    if extra < 0:
        paragraphs = [intro + unsure[:1], questions, ending]
    return paragraphs


def _title(w: _Writer, archetype: Archetype) -> str:
    titles = {
        Archetype.PROBLEM_SOLUTION: PS_TITLES,
        Archetype.JOURNEY: J_TITLES,
        Archetype.FEEDBACK: F_TITLES,
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


# Sentence banks. Placeholders: {topic} {months} {weeks} {hours} {count} {dollars} {users}
# {paying} {calls} {lost} {mrr} {tool} {term} {product} {when}. None of them may contain a
# machine tell, a link or a pitch: tests run validation over composed drafts.
PS_TITLES = (
    "Anyone else losing hours every week to {topic}?",
    "{topic} cost me more this year than I'd like to admit",
    "I underestimated {topic} and it bit me",
    "The boring fix for my {topic} problem",
    "How much time do you lose to {topic}?",
    "{weeks} weeks of {topic} chaos and the thing that finally helped",
    "I was stuck on {topic} for months, this is what changed",
    "Nobody warned me about {topic}",
    "My {topic} problem, and why the usual advice didn't work",
    "Finally got {topic} under control after a rough quarter",
)
PS_OPEN = (
    "I've been losing way too much time to {topic} lately.",
    "Dealing with {topic} ate most of my last {weeks} weeks, and I'm still annoyed about it.",
    "Something about {topic} has been bugging me for months.",
    "I didn't think {topic} would be the part of the work that wears me down, but here we are.",
    "My biggest headache this year had nothing to do with the actual work, it was {topic}.",
    "Every month I tell myself I'll get on top of {topic}, and every month I don't.",
    "I keep running into the same wall with {topic}.",
    "Nobody warned me how much of my week would go to {topic}.",
    "I underestimated {topic} badly.",
    "The least glamorous part of what I do is {topic}, and it's the part that hurts the most.",
    "For a long time I pretended {topic} wasn't a real problem for me.",
)
PS_PAIN = (
    "Last month alone I spent about {hours} hours on it, which is time nobody pays me for.",
    "I'd open my laptop to do real work and end up stuck on this instead.",
    "The worst part is the mental load, it sits in the back of my head all week.",
    "It sounds small until you add up the hours.",
    "I've dropped the ball on at least {count} things this quarter because of it.",
    "My partner has started asking why I'm still at the desk at 10pm.",
    "Some weeks it's fine, and then one week it eats two full days.",
    "I felt kind of embarrassed about how much it was costing me.",
    "It got to the point where I was avoiding my inbox.",
    "I wrote everything down for a month, and the numbers were worse than I thought.",
    "It cost me real money too, somewhere around ${dollars} if I'm honest.",
    "I was tired of feeling behind on something that should be simple.",
    "The frustrating bit is that it never breaks loudly, it just slowly gets worse.",
)
PS_FAILED_INTRO = (
    "I tried the obvious fixes first.",
    "Of course I tried the usual advice.",
    "I didn't just sit there, I tried a bunch of things.",
    "Here is what I tried before anything worked.",
    "The standard answers didn't hold up for me.",
    "I went through the usual suspects.",
    "Not one of the common fixes lasted.",
    "I spent a while trying other people's systems.",
    "My first attempts were the ones everyone suggests.",
    "I looked at what other people do about it.",
)
PS_FAILED = (
    "Spreadsheets worked for about {weeks} weeks, until I stopped opening them.",
    "I tried {tool}, and it was fine, just not for this.",
    "Calendar reminders helped until I started snoozing them.",
    "A couple of the popular apps wanted me to change my whole setup just to fix one thing.",
    "The paid tools I tried were built for teams of fifty, not for one person.",
    "I even hired a VA for a month, which mostly moved the problem to someone else.",
    "Templates from blog posts looked great and lasted about a week.",
    "Most advice I found assumed I had way more time than I do.",
    "Doing it by hand every Friday worked, right up until the first busy Friday.",
    "Everything I tried needed me to remember to use it, and that was the actual problem.",
    "I paid for one tool for {months} months and used it maybe twice.",
)
PS_COMMUNITY = (
    "Every thread here about {term} ends in a different recommendation, and I tried a few.",
    "I read a lot of the {term} threads in this sub before giving up on the usual route.",
    "Half the {term} advice I found here made sense, it just didn't fit how I work.",
)
PS_FIX_PRODUCT = (
    "What ended up working was {product}, it handles the follow-up I kept forgetting.",
    "I switched to {product} about {weeks} weeks ago and the problem has mostly gone away.",
    "These days I use {product}, it's not magic, it just does the boring part.",
    "The fix was boring, {product}, set up once and left alone.",
    "I moved it all into {product} and it's been quiet since.",
    "In the end I went with {product} and stopped thinking about it.",
    "I ended up on {product}, which took an afternoon to set up.",
    "For me the answer was {product}, and the hours came back within a month.",
    "I've been using {product} since, and that part of my week is calm now.",
    "What stuck was {product}, mostly because I don't have to remember anything.",
)
PS_FIX_PLAIN = (
    "What fixed it was boring, one fixed hour every Friday and no exceptions.",
    "The fix turned out to be a checklist and a calendar block, nothing clever.",
    "In the end I automated the one step I kept skipping, and that was most of it.",
    "What worked was deciding the rules up front and writing them where I'd see them.",
    "I now deal with it the same day it comes up, and the pile never forms.",
    "The answer was doing less of it, less often, on a fixed day.",
    "A two-line rule I wrote for myself did more than any app.",
    "I stopped improvising and made it a routine, that's honestly all.",
    "What helped was handing it a fixed slot in my week and protecting that slot.",
    "A plain checklist ended up beating every tool I tried.",
)
J_TITLES = (
    "{months} months of working on {topic}, with numbers and mistakes",
    "What happened after I got fed up with {topic}",
    "My {months}-month diary of trying to fix {topic}",
    "From zero to {users} users while dealing with {topic}",
    "I kept notes while working on {topic}, this is the honest version",
    "{months} months, {users} users and a lot of mistakes around {topic}",
    "The long way round to solving {topic}",
    "What {months} months of working on {topic} taught me",
    "My timeline working on {topic}, setbacks included",
    "An honest log of my first {months} months on {topic}",
)
J_INTRO = (
    "About {months} months ago I started working on a fix for {topic}, mostly for myself.",
    "This is a write-up of what happened after I decided to do something about {topic}.",
    "I kept notes while I worked on {topic} this year, so here's the honest version.",
    "Around {months} months ago I got fed up with {topic} and started working on it on weekends.",
    "I started this because {topic} was eating my evenings.",
    "A few people asked how the {topic} project went, so I wrote it down.",
    "I've been chipping away at {topic} for {months} months now.",
    "This started as a weekend fix for {topic} and turned into something bigger.",
    "My plan was to spend two weekends on {topic}, and it took {months} months.",
    "I never meant to spend this long on {topic}.",
)
J_WHEN = ("In the first two weeks,", "By week six,", "Around month three,")
J_MILESTONE = (
    "{when} I had a rough version working and {users} people from my own network trying it.",
    "{when} I'd spent roughly {hours} hours a week on it and had {users} people using it.",
    "{when} the first {paying} people paid for it, which felt unreal for about a day.",
    "{when} I rewrote the core part because the first version fell apart at {users} users.",
    "{when} I talked to {calls} people who deal with {topic} and threw out half my assumptions.",
    "{when} I had {users} sign-ups and no idea which of them were serious.",
    "{when} I cut the feature list from twelve items to three.",
    "{when} I was answering about {count} support emails a day, all by hand.",
    "{when} I finally charged money, and {paying} people stayed.",
    "{when} I moved from evenings to two full days a week on it.",
)
J_DETAIL = (
    "Most of that time went into things nobody noticed.",
    "The feedback was kind, which in hindsight was the problem.",
    "I learned more from the {calls} short calls than from a month of building.",
    "I tracked every hour in a notes file, and it was about {hours} a week.",
    "It was slower than I hoped and faster than I feared.",
    "I kept a list of every complaint, and it grew to {count} items.",
    "I realized I was building for the version of me from a year ago.",
    "Nothing about it was pretty, but it worked for the {users} people using it.",
    "I tried three different ways to explain what it did before one landed.",
    "At that point I still had my day job, so everything happened after 9pm.",
)
J_SETBACK = (
    "Then it went sideways, I lost {lost} users in one week after a bad update.",
    "Not everything worked, and the pricing change in month four was a mistake.",
    "The worst week was when a bug sent the same email twice to everyone.",
    "Then I burned out and didn't touch it for {weeks} weeks.",
    "My biggest early user left without saying why.",
    "I failed at pricing twice before anything stuck.",
    "A launch post I spent days on got {count} upvotes and zero sign-ups.",
    "I spent {weeks} weeks on a feature that {paying} people used.",
    "At one point I seriously considered shutting it down.",
    "The setback nobody warned me about was support eating my build time.",
)
J_SETBACK_DETAIL = (
    "I was frustrated for a few days and then went back to talking to users.",
    "It stung, but it showed me what people actually cared about.",
    "I wrote a long apology email and {paying} people replied kindly, which helped.",
    "Looking back, the warning signs were there for weeks.",
    "That was the month I learned to ship smaller changes.",
    "I still don't fully know what went wrong there.",
    "I almost didn't include this part, but it's the most honest bit.",
    "Recovering from it took longer than building the thing in the first place.",
    "It forced me to cut the parts I was proudest of.",
    "I decided to keep going mainly out of stubbornness.",
)
J_NOW = (
    "Today it sits at {users} weekly users and about ${mrr} a month, which is small but real.",
    "Right now it's {paying} paying people and a lot of notes.",
    "These days it mostly runs itself and I spend about {hours} hours a week on it.",
    "It's not a big success, but it pays for itself and then some.",
    "Where it stands now, {users} people use it most weeks.",
    "It's still small, {paying} paying people, and I'm fine with that for now.",
    "Now the numbers are boring in a good way.",
    "It's been steady for {weeks} weeks, which is the longest stretch so far.",
    "The current state is modest, about ${mrr} a month and growing slowly.",
    "It's alive, it's small, and it does the one job it was meant to.",
)
J_LESSON = (
    "The biggest thing I learned was to talk to people before writing anything.",
    "If I started again I'd charge from day one.",
    "Looking back, most of my early time went into the wrong problems.",
    "The part I'd do differently is the launch, I rushed it.",
    "I learned that slow and steady beat every clever growth idea I tried.",
    "I realized the setbacks taught me more than the wins did.",
    "What surprised me most was how much of this was patience.",
    "I'd tell past me to spend less time on features and more on conversations.",
    "The lesson for me was to keep the scope tiny for much longer.",
    "I'm still not sure I got the pricing right.",
)
J_PRODUCT = (
    "The thing it turned into is {product}.",
    "For context, the project is {product}.",
    "It ended up as {product}, mostly shaped by those early calls.",
    "What came out of it is {product}.",
    "That project became {product}.",
    "It's called {product} now, for what it's worth.",
    "The result is {product}, still rough in places.",
    "Eventually it turned into {product}.",
    "The version people use today is {product}.",
    "All of that led to {product}.",
)
J_COMMUNITY = (
    "A lot of what I changed came from {term} threads in this sub.",
    "Reading people here argue about {term} changed how I thought about it.",
    "The {term} discussions here saved me from at least one bad decision.",
)
F_TITLES = (
    "Tear apart my approach to {topic}",
    "Be honest, where does my {topic} plan fall apart?",
    "Looking for criticism on how I handle {topic}",
    "What am I missing about {topic}?",
    "Need a reality check on {topic}",
    "Poke holes in how I deal with {topic}",
    "You know {topic} better than me, what would you change?",
    "Is my approach to {topic} as flawed as I suspect?",
    "Roast my plan for {topic}",
    "Asking the experts here about {topic}",
)
F_INTRO = (
    "I'd like a reality check from people here who know {topic} better than I do.",
    "I've been working on an approach to {topic} and I'm honestly not sure it holds up.",
    "You all have more experience with {topic} than me, so I'm asking before I sink more time in.",
    "I'm a bit stuck on {topic} and I think this sub is the right place to ask.",
    "People here clearly know more about {topic} than I do, so I'd love some criticism.",
    "I've read a lot of threads here about {topic}, and now I need help with my own situation.",
    "I'm fairly new to thinking seriously about {topic}, and I suspect I'm doing it wrong.",
    "Before I commit to anything around {topic}, I want people who know it to find the holes.",
    "I've got a plan for {topic} and a nagging feeling it has a big flaw.",
    "I'm confused about {topic} and would rather ask than guess.",
)
F_WHAT = (
    "Right now I handle it with a mix of reminders and a spreadsheet, and it half works.",
    "What I have so far is rough, and I know it.",
    "My current setup grew by accident over about {months} months.",
    "I've sketched a plan, but I've only tested it on my own work.",
    "So far I've tried it with {count} people, which is nowhere near enough to know anything.",
    "My approach is simple on paper and messy in practice.",
    "I've been doing it the same way for {months} months without questioning it.",
    "I wrote the whole process down last week and it was longer than I expected.",
    "The plan made sense at midnight, and I'm less sure of it now.",
    "I put together a first version and it feels fragile.",
)
F_UNSURE = (
    "The part I'm least sure about is whether anyone would change their routine for this.",
    "I can't tell if I'm solving a real problem or just my own quirk.",
    "I worry I've overcomplicated it.",
    "I'm also unsure whether the order of the steps makes sense.",
    "My gut says something is off, I just can't see what.",
    "I have no idea if this scales past a handful of people.",
    "I might be missing something obvious to anyone with more experience.",
    "I'm not confident the time it takes is worth what it saves.",
    "I don't know which part people would find annoying first.",
    "I'm honestly not sure I'm asking the right question.",
)
F_QUESTIONS_LEAD = (
    "A few specific things I'd like your take on.",
    "Here are the questions I keep going back and forth on.",
    "Some specific questions, if you have a minute.",
    "What I'd really like to know from you.",
    "The concrete questions I'm stuck on.",
    "I have a couple of specific questions.",
    "These are the things I can't answer myself.",
    "Specific questions, because vague ones get vague answers.",
    "My actual questions for you.",
    "The things I'd most like help with.",
)
F_QUESTIONS = (
    "How do you handle {topic} today, and what made you stick with it?",
    "Where would this approach break for you?",
    "What would you need to see before trusting something like this?",
    "If you've tried something similar, what made you stop?",
    "Is there an obvious flaw I'm too close to see?",
    "What would you cut first?",
    "Which part of this sounds like more work than it's worth?",
    "What did you get wrong about {topic} when you started?",
    "Would this survive a busy month for you?",
    "What's the first thing you'd change?",
    "Am I overthinking the {term} side of it?",
)
F_PRODUCT = (
    "The thing I'm asking about is {product}.",
    "For context, what I'm working on is {product}.",
    "The project is {product}, still early.",
    "It's {product}, in case that changes your answer.",
    "What I've got is {product}, and it's rough.",
    "The current version is {product}.",
    "It's called {product}, but the name matters less than the idea.",
    "The thing behind all this is {product}.",
    "What I'm testing is {product}.",
    "To be specific, it's {product}.",
)
F_CRITICISM = (
    "Please be blunt, I'd rather hear it now than after another {months} months.",
    "Criticism is more useful to me than encouragement right now.",
    "Tell me what's wrong with it, not what's nice about it.",
    "Harsh answers welcome, I asked for them.",
    "If you think the whole idea is wrong, I want to hear that too.",
    "I'd much rather get picked apart here than find out the hard way.",
    "Don't hold back, the polite answers don't help me much.",
    "Any criticism helps, even the brutal kind.",
    "Point out the flaws and I'll read every reply.",
    "I'm looking for the holes, not for reassurance.",
)
F_COMMUNITY = (
    "I've seen people here mention {term}, and I'm not sure how it fits.",
    "I keep seeing {term} come up in this sub, which makes me think I'm missing something.",
    "Part of me thinks the answer is {term}, like people here often say.",
)
EMOTION = (
    "I was more stressed about this than I let on to anyone.",
    "If I'm honest, I felt pretty overwhelmed by it.",
    "It made me anxious in a way I didn't expect.",
    "I was worried I was the only one struggling with it.",
    "Some days it left me completely drained.",
    "It's embarrassing how long I let it slide.",
    "I felt stuck and a bit stupid for a while.",
    "It was the kind of frustrating that follows you home.",
    "I lost sleep over it more than once.",
    "I was scared it meant I wasn't cut out for this.",
)
