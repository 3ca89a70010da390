"""A community profile proposed from a sample of a subreddit's posts. Pure and deterministic.

Style: average sentence length and grade level over all the posts' text, the dominant tone from
two small word lists, the opening lines of the best-scored posts as hooks, and up to three of
them as example posts.

ISC estimate, from the top and bottom quartile of posts by score (q = n // 4 posts each):
- jargon sensitivity = 10 − 5·(top posts with jargon ÷ bottom posts with jargon); 5.0 when no
  bottom post has any. A community that rewards jargon-free posts scores high.
- link sensitivity: the same with links (in the text, or a link post pointing off Reddit).
- vulnerability preference = 5 + (mean vulnerability score of the top − of the bottom).
- depth = mean of (formality match + vulnerability) / 2 over the most-commented quarter, the
  formality match measured against the sample's own grade level; 5.0 with fewer than 5
  commented posts.
ISC = 0.3·jargon + 0.2·link + 0.3·vulnerability + 0.2·depth, clamped to 1–10, one decimal.
At least 10 posts are needed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any
from urllib.parse import urlsplit

from bcrao_contracts.analysis import (
    IscComponent,
    IscComponentName,
    IscEstimate,
    PastedPosts,
    ProfileProposal,
    RedditListing,
)
from bcrao_contracts.api import ProfileIn
from bcrao_contracts.enums import Tone
from bcrao_contracts.models import isc_tier
from bcrao_contracts.requirements import FLAIR_MAX, CommunityRequirements
from pydantic import ValidationError

from .scoring import EMOTION_WORDS, vulnerability_counts, vulnerability_from_count
from .textstats import avg_sentence_length, find_links, flesch_kincaid_grade, split_sentences, words
from .validation import buzzwords

MIN_POSTS = 10
MIN_COMMENTED = 5
NEUTRAL = 5.0
HOOKS = 5
MAX_FLAIRS = 20  # flairs proposed from a sample, most used first
EXAMPLES = 3
WEIGHTS: dict[IscComponentName, float] = {
    "jargon_sensitivity": 0.3,
    "link_sensitivity": 0.2,
    "vulnerability": 0.3,
    "depth": 0.2,
}
FORMULA = "0.3·jargon + 0.2·link + 0.3·vulnerability + 0.2·depth, clamped to 1–10"
POSITIVE_WORDS = frozenset(
    {
        "love", "loved", "great", "awesome", "amazing", "happy", "excited", "glad", "thanks",
        "thank", "helpful", "best", "proud", "finally", "works", "worked", "win", "won", "success",
        "recommend", "enjoy", "enjoyed", "nice", "good", "easy",
    }
)  # fmt: skip
NEGATIVE_WORDS = EMOTION_WORDS | frozenset(
    {
        "bad", "worst", "terrible", "awful", "broken", "fail", "problem", "problems", "issue",
        "issues", "angry", "sad", "wrong", "sucks", "annoying", "useless",
    }
)  # fmt: skip
# A tone needs this many more words than the other, and a few words at all, to dominate.
TONE_MARGIN = 1.25
TONE_MIN_WORDS = 3
_REDDIT_HOSTS = ("reddit.com", "redd.it")


class AnalysisInputError(ValueError):
    """The posts cannot be analysed; `details` says where (for the 422 envelope)."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class Post:
    title: str
    body: str
    score: int
    num_comments: int
    url: str | None = None
    flair: str | None = None

    @property
    def text(self) -> str:
        return f"{self.title}\n\n{self.body}" if self.body.strip() else self.title


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ][:20]


_SEPARATOR = re.compile(r"^[ \t]*-{3,}[ \t]*$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
_TITLE_PREFIX = re.compile(r"^\s*(?:#+\s*|title\s*:\s*)", re.IGNORECASE)
MAX_PASTED_CHARS = 500_000


def split_pasted(text: str) -> list[Post]:
    """Post texts as people paste them: separated by lines of `---`, or else by blank lines;
    each post's first line is its title. Pasted text has no scores: the posts keep their order."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_PASTED_CHARS:
        raise AnalysisInputError(
            f"the pasted text is longer than {MAX_PASTED_CHARS:,} characters; paste fewer posts",
            {"length": len(text), "maximum": MAX_PASTED_CHARS},
        )
    blocks = _SEPARATOR.split(text) if _SEPARATOR.search(text) else _BLANK_LINES.split(text)
    posts = []
    for block in blocks:
        lines = block.strip().split("\n", 1)
        title = _TITLE_PREFIX.sub("", lines[0]).strip()[:300]
        if not title:
            continue
        body = lines[1].strip() if len(lines) > 1 else ""
        posts.append(Post(title, body[:40_000], 0, 0))
    return posts


def parse_posts(payload: Any) -> list[Post]:
    """Pasted post texts (a string, or `{"text": …}`), pasted posts as JSON, or a Reddit
    listing (comment children of a post page are skipped)."""
    if isinstance(payload, dict) and isinstance(payload.get("text"), str):
        payload = payload["text"]
    if isinstance(payload, str) and payload.strip():
        return split_pasted(payload)
    if isinstance(payload, dict) and "posts" in payload:
        try:
            pasted = PastedPosts.model_validate(payload)
        except ValidationError as exc:
            raise AnalysisInputError(
                "the pasted posts are invalid", {"errors": _errors(exc)}
            ) from None
        return [Post(p.title, p.body, p.score, p.num_comments, flair=p.flair) for p in pasted.posts]
    listings = payload if isinstance(payload, list) else [payload]
    if not listings or not all(isinstance(x, dict) and "data" in x for x in listings):
        raise AnalysisInputError(
            "paste the posts' text (one post per block, separated by blank lines or ---), "
            'or send {"posts": [{"title", "body", "score", "num_comments"}]} or the JSON of a '
            "subreddit listing (data.children[].data)"
        )
    posts: list[Post] = []
    for listing in listings:
        data = listing.get("data")
        children = data.get("children") if isinstance(data, dict) else None
        if isinstance(children, list):
            # A post page is [the post, its comments]: comments (t1) are not posts.
            listing = {**listing, "data": {**data, "children": _post_children(children)}}
        try:
            parsed = RedditListing.model_validate(listing)
        except ValidationError as exc:
            raise AnalysisInputError(
                "the listing is not a Reddit listing of posts", {"errors": _errors(exc)}
            ) from None
        posts += [
            Post(
                c.data.title,
                c.data.selftext,
                c.data.score,
                c.data.num_comments,
                c.data.url,
                c.data.link_flair_text,
            )
            for c in parsed.data.children
        ]
    return posts


def _post_children(children: list[Any]) -> list[Any]:
    return [c for c in children if not (isinstance(c, dict) and c.get("kind") not in (None, "t3"))]


def _has_link(post: Post) -> bool:
    if find_links(post.text):
        return True
    host = (urlsplit(post.url).hostname or "") if post.url else ""
    return bool(host) and not any(host == h or host.endswith("." + h) for h in _REDDIT_HOSTS)


def _vulnerability(post: Post) -> float:
    return vulnerability_from_count(vulnerability_counts(post.text)["n"])


def _clamp(value: float, low: float = 0.0, high: float = 10.0) -> float:
    return max(low, min(high, value))


def _ratio_component(
    name: IscComponentName,
    label: str,
    top: Sequence[Post],
    bottom: Sequence[Post],
    has: Callable[[Post], bool],
) -> IscComponent:
    t, b = sum(map(has, top)), sum(map(has, bottom))
    counts = f"{t} of the {len(top)} top posts and {b} of the {len(bottom)} bottom posts"
    if b == 0:
        value, why = NEUTRAL, f"{counts} have {label}; none at the bottom, so neutral"
    else:
        value = _clamp(10 - 5 * t / b)
        why = f"{counts} have {label}: 10 − 5·{t}/{b}"
    return IscComponent(name=name, value=round(value, 2), weight=WEIGHTS[name], explanation=why)


def _vulnerability_component(top: Sequence[Post], bottom: Sequence[Post]) -> IscComponent:
    high, low = mean(map(_vulnerability, top)), mean(map(_vulnerability, bottom))
    return IscComponent(
        name="vulnerability",
        value=round(_clamp(NEUTRAL + high - low), 2),
        weight=WEIGHTS["vulnerability"],
        explanation=(
            f"top posts average vulnerability {high:.1f}, bottom posts {low:.1f}: "
            f"5 + ({high:.1f} − {low:.1f})"
        ),
    )


def _depth_component(posts: Sequence[Post], q: int, grade: float) -> IscComponent:
    commented = [p for p in posts if p.num_comments > 0]
    if len(commented) < MIN_COMMENTED:
        value = NEUTRAL
        why = f"only {len(commented)} posts have comments (fewer than {MIN_COMMENTED}): neutral"
    else:
        most = sorted(commented, key=lambda p: -p.num_comments)[:q]
        per_post = [
            (_clamp(10 - 2 * abs(flesch_kincaid_grade(p.text) - grade)) + _vulnerability(p)) / 2
            for p in most
        ]
        value = mean(per_post)
        why = (
            f"the {len(most)} most-commented posts average {value:.1f} on "
            f"(formality match to grade {grade:.1f} + vulnerability) / 2"
        )
    return IscComponent(
        name="depth", value=round(value, 2), weight=WEIGHTS["depth"], explanation=why
    )


def _tone(text: str) -> tuple[Tone, str]:
    tokens = [t.lower() for t in words(text)]
    pos = sum(t in POSITIVE_WORDS for t in tokens)
    neg = sum(t in NEGATIVE_WORDS for t in tokens)
    tone = Tone.NEUTRAL
    if pos + neg >= TONE_MIN_WORDS and pos > TONE_MARGIN * neg:
        tone = Tone.POSITIVE
    elif pos + neg >= TONE_MIN_WORDS and neg > TONE_MARGIN * pos:
        tone = Tone.NEGATIVE
    return tone, f"tone {tone.value}: {pos} positive and {neg} negative words"


def _hook(post: Post) -> str:
    """A post's hook is its title: what readers saw before they clicked."""
    if post.title.strip():
        return post.title.strip()[:1000]
    sentences = split_sentences(post.body) if post.body.strip() else []
    return (sentences[0] if sentences else "")[:1000]


def propose_profile(posts: Sequence[Post], subreddit: str) -> ProfileProposal:
    """A proposed profile; fewer than MIN_POSTS posts give an estimate marked low-confidence."""
    if not posts:
        raise AnalysisInputError(
            "no posts were found: paste at least one post (ten or more give a reliable estimate)",
            {"sample_size": 0, "minimum": 1},
        )
    low = len(posts) < MIN_POSTS
    confidence = (
        f"only {len(posts)} post{'s' if len(posts) != 1 else ''}: at least {MIN_POSTS} give a "
        "reliable estimate, so treat this ISC as a rough guess and check it against the "
        "community's rules"
        if low
        else None
    )
    by_score = sorted(posts, key=lambda p: -p.score)  # stable: ties keep the input order
    q = max(1, len(posts) // 4)
    top, bottom = by_score[:q], by_score[-q:]
    text = "\n\n".join(p.text for p in posts)
    grade = round(_clamp(flesch_kincaid_grade(text), 1.0, 20.0), 1)
    avg = round(_clamp(avg_sentence_length(text), 1.0, 100.0), 1)
    tone, tone_note = _tone(text)

    components = [
        _ratio_component("jargon_sensitivity", "corporate jargon", top, bottom, _has_jargon),
        _ratio_component("link_sensitivity", "links", top, bottom, _has_link),
        _vulnerability_component(top, bottom),
        _depth_component(posts, q, grade),
    ]
    isc = round(_clamp(sum(c.value * c.weight for c in components), 1.0, 10.0), 1)
    hooks = list(dict.fromkeys(h for p in by_score[:HOOKS] if (h := _hook(p).strip())))
    examples = [f"{p.title}\n\n{p.body}"[:10_000] for p in by_score if p.body.strip()][:EXAMPLES]
    requirements, flair_note = _flair_requirements(posts)
    profile = ProfileIn(
        requirements=requirements,
        isc_score=isc,
        avg_sentence_length=avg,
        dominant_tone=tone,
        formality_level=grade,
        top_success_hooks=hooks,
        example_posts=examples,
        sample_size=len(posts),
    )
    return ProfileProposal(
        subreddit=subreddit,
        sample_size=len(posts),
        profile=profile,
        isc=IscEstimate(value=isc, tier=isc_tier(isc), formula=FORMULA, components=components),
        notes=[
            f"sentences average {avg:g} words over {len(posts)} posts",
            f"grade level {grade:g} (Flesch–Kincaid)",
            tone_note,
            f"quartiles of {q} posts each by score",
            *([flair_note] if flair_note else []),
            *(
                ["no scores were given: the posts are taken in the order pasted"]
                if all(p.score == 0 for p in posts)
                else []
            ),
        ],
        low_confidence=low,
        confidence_note=confidence,
    )


def _flair_requirements(posts: Sequence[Post]) -> tuple[CommunityRequirements | None, str | None]:
    """A community whose every sampled post carries a flair most likely requires one: propose
    the flairs seen (most used first) as the required list. Other rules (title bounds, links)
    cannot be told from a sample of posts that passed them, so they are left to the user."""
    flairs = [p.flair.strip() for p in posts if p.flair and p.flair.strip()]
    if not flairs or len(flairs) < len(posts):
        return None, None
    counts = Counter(f[:FLAIR_MAX] for f in flairs)
    options = [name for name, _ in counts.most_common(MAX_FLAIRS)]
    note = f"every sampled post has a flair: proposed as required, one of {', '.join(options)}"
    return CommunityRequirements(required_flairs=options), note


def _has_jargon(post: Post) -> bool:
    return bool(buzzwords(post.text))
