"""Data shared across services: campaign facts, community profiles, blacklist entries, drafts.

Length limits live here so the gateway, the events and the database agree on them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AnyHttpUrl, Field, StringConstraints, field_validator, model_validator

from .base import Contract
from .enums import (
    AccountStatus,
    Archetype,
    BlacklistCategory,
    BlacklistKind,
    BlacklistSource,
    DraftStatus,
    HumanizerLevel,
    Severity,
    Tone,
)
from .requirements import CommunityRequirements, RuleVerdict

CONTEXT_MAX = 2000
FEEDBACK_MAX = 1000
TITLE_MAX = 300
BODY_MAX = 40_000

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Hook = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
ExamplePost = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
]
SUBREDDIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
# What clients may send: the name, optionally as `r/name` or `/r/name/` (stored without it).
SUBREDDIT_INPUT_PATTERN = r"^(/?[rR]/)?[A-Za-z0-9][A-Za-z0-9_]{1,20}/?$"


def normalize_subreddit(value: str) -> str:
    """Accept `r/SaaS`, `/r/SaaS` or `SaaS`; store `SaaS`. ValueError when not a valid name."""
    name = value.strip()
    for prefix in ("/r/", "r/", "R/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = name.strip("/")
    if not SUBREDDIT_RE.match(name):
        shown = value.strip()[:40] or "(empty)"
        raise ValueError(
            f"“{shown}” is not a subreddit name: names are 2 to 21 letters, digits or "
            "underscores, like r/SaaS"
        )
    return name


Subreddit = Annotated[str, Field(min_length=1, max_length=30)]


class CampaignSnapshot(Contract):
    """What generation needs to know about the campaign's product."""

    id: UUID
    name: Annotated[str, Field(min_length=1, max_length=100)]
    product_context: Annotated[str, Field(min_length=10, max_length=5000)]
    product_url: AnyHttpUrl | None = None
    keywords: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=15)
    ]


STYLE_LIST_MAX = 50  # items in each list of a style guide (each item: ShortText, 300 characters)
StyleList = Annotated[list[ShortText], Field(max_length=STYLE_LIST_MAX)]


class StyleGuide(Contract):
    """How the community writes, in the community's own words. Every key is optional; the
    generator hands the ones that are set to the writer as they are (docs/DOMAIN.md). A list
    holds at most 50 items of 1 to 300 characters each."""

    voice: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None,
        title="Voice",
        description="how people here sound, in a sentence or two, e.g. “founders talking shop: "
        "numbers, honest mistakes, no hype”",
    )
    words_to_use: StyleList = Field(
        default=[],
        title="Words to use",
        description="words and phrases people here use (their jargon, abbreviations, names for "
        "things); the writer may use them",
    )
    words_to_avoid: StyleList = Field(
        default=[],
        title="Words to avoid",
        description="words that mark a post as an outsider's or an ad here; the writer is asked "
        "to avoid them (drafts are not checked for them: a blacklist entry does that)",
    )
    tone: Annotated[str, Field(max_length=300)] | None = Field(
        default=None,
        title="Tone",
        description="the mood of the posts in a few words, e.g. “dry, self-deprecating”; finer "
        "than dominant_tone",
    )
    taboo_topics: StyleList = Field(
        default=[],
        title="Taboo topics",
        description="subjects the community does not want raised; the writer stays off them",
    )
    loved_tools: StyleList = Field(
        default=[],
        title="Tools people here like",
        description="tools and products the community likes and mentions",
    )
    insider_references: StyleList = Field(
        default=[],
        title="Insider references",
        description="jokes, names and references only members get",
    )


class CommunityProfile(Contract):
    """The analysis of one subreddit's community, loaded through the API."""

    subreddit: Subreddit
    isc_score: Annotated[float, Field(ge=1.0, le=10.0)]
    avg_sentence_length: Annotated[float, Field(gt=0, le=100)]
    dominant_tone: Tone = Tone.NEUTRAL
    formality_level: Annotated[float, Field(ge=1, le=20, description="school grade level")]
    top_success_hooks: Annotated[list[Hook], Field(max_length=50)] = []
    example_posts: Annotated[list[ExamplePost], Field(max_length=10)] = []
    style_guide: StyleGuide | None = None
    archetype_distribution: dict[Archetype, Annotated[float, Field(ge=0, le=1)]] = {}
    sample_size: Annotated[int, Field(ge=0)] = 0
    analyzed_at: datetime | None = None
    requirements: CommunityRequirements | None = None  # the subreddit's posting rules

    @field_validator("subreddit", mode="before")
    @classmethod
    def _strip_prefix(cls, value: Any) -> Any:
        return normalize_subreddit(value) if isinstance(value, str) else value


# ISC tier labels: (upper bound, exclusive; None for the last, label). The UI reads these from
# the rules document (bcrao_rules.catalogue) rather than keeping its own copy.
ISC_TIERS: tuple[tuple[float | None, str], ...] = (
    (3.0, "Low"),
    (5.0, "Moderate"),
    (7.0, "High"),
    (None, "Very High"),
)


def isc_tier(isc: float) -> str:
    return next(label for below, label in ISC_TIERS if below is None or isc < below)


class BlacklistEntry(Contract):
    """A pattern that gets posts removed. Scope: campaign+subreddit, campaign-wide, or global."""

    id: UUID
    pattern: Annotated[str, Field(min_length=1, max_length=500)]
    kind: BlacklistKind = BlacklistKind.LITERAL
    description: Annotated[str, Field(min_length=1, max_length=300)]
    category: BlacklistCategory = BlacklistCategory.CUSTOM
    severity: Severity = Severity.MEDIUM
    campaign_id: UUID | None = None
    subreddit: Subreddit | None = None
    source: BlacklistSource = BlacklistSource.USER

    @model_validator(mode="after")
    def _check(self) -> BlacklistEntry:
        # A regex is checked when saved, by the engine that runs it (RE2, bcrao_rules.blacklist);
        # one that engine cannot run matches nothing rather than failing the whole event.
        if self.subreddit is not None and self.campaign_id is None:
            raise ValueError("a subreddit-scoped entry must belong to a campaign")
        return self


ProductMention = Literal["none", "last_paragraph", "natural"]
PromotionalLanguage = Literal["minimal", "normal", "plain"]


class PromptBlacklistLine(Contract):
    """A blacklist entry as it reached the prompt (one per description, most severe first)."""

    id: UUID
    kind: BlacklistKind
    pattern: str
    description: str
    severity: Severity
    category: BlacklistCategory


class PromptProduct(Contract):
    """The product facts the prompt may draw on; no URL when links are not allowed."""

    product_context: str
    product_url: str | None = None


class PromptCampaign(Contract):
    id: UUID
    keywords: list[str] = []
    product: PromptProduct | None = None  # None when the post must not mention the product


class ParentDraft(Contract):
    """The draft a regeneration rewrites, as the user last saw it: their edited title and text
    where they edited them, else the generated ones. Shown to the model as data."""

    title: Annotated[str, Field(max_length=TITLE_MAX)]
    body: Annotated[str, Field(max_length=BODY_MAX)]
    edited: bool = False


class GenerationParams(Contract):
    """Everything the prompt is rendered from, stored on the draft (`generation_params`).

    The generator builds it from the request and the gating decision, renders the prompt from it
    alone (`bcrao_generator.prompt.prompt_from_params`), and carries it in DraftGenerated;
    draft-store stores it as it came, so a stored draft rebuilds its exact prompt. The fields
    after `promotional_language` record the LLM call that used the prompt: set once the call
    returned, never read by the prompt.
    """

    prompt_version: str
    subreddit: Subreddit
    archetype: Archetype
    account_status: AccountStatus
    context: str = ""
    feedback: str | None = None
    parent_draft_id: UUID | None = None
    parent_draft: ParentDraft | None = None
    profile: CommunityProfile | None = None
    blacklist: list[PromptBlacklistLine] = []
    campaign: PromptCampaign
    constraints: list[str] = []
    product_mention: ProductMention
    zero_links: bool
    promotional_language: PromotionalLanguage
    humanizer_level: HumanizerLevel = HumanizerLevel.LIGHT
    # The call (recorded after it returned).
    model: str | None = None
    attempts: Annotated[int, Field(ge=1)] | None = None
    finish_reason: str | None = None
    prompt_tokens: Annotated[int, Field(ge=0)] | None = None
    completion_tokens: Annotated[int, Field(ge=0)] | None = None
    humanizer_seed: str | None = None
    # A repair round (the LLM path asked the model once to fix high-severity hits or a broken
    # gating rule): its tokens are included in the draft's token count and cost.
    repair_prompt_tokens: Annotated[int, Field(ge=0)] | None = None
    repair_completion_tokens: Annotated[int, Field(ge=0)] | None = None


class BlacklistHit(Contract):
    """`field`, `start` and `end` locate the match (character offsets in the title or the body)
    so a client can mark it in the text; reports stored before they existed have none."""

    entry_id: UUID
    entry: str
    description: str
    category: BlacklistCategory
    severity: Severity
    matched_text: str
    field: Literal["title", "body"] | None = None
    start: int | None = None
    end: int | None = None


class MachineTellHit(Contract):
    category: str
    matched_text: str


class WritingFinding(Contract):
    """A writing defect a reader would notice (DOMAIN.md, "Validation report"): broken grammar, a
    sentence with no verb, a lowercase start, text pasted from the request, off-topic content."""

    kind: Literal["broken_grammar", "no_verb", "lowercase_start", "pasted_input", "off_topic"]
    message: str
    excerpt: str = ""
    field: Literal["title", "body"] | None = None


class ValidationReport(Contract):
    blacklist_hits: list[BlacklistHit] = []
    machine_tells: list[MachineTellHit] = []
    writing_findings: list[WritingFinding] = []
    # The LLM path asked the model once to repair these problems (hits, broken rules); the
    # report above is of the repaired text.
    repaired: list[str] = []
    link_count: int = 0
    links_removed: list[str] = []
    sentence_count: int = 0
    avg_sentence_length: float = 0.0
    needs_review: bool = False
    # One verdict per rule that applies (gating constraints, the profile's requirements);
    # a failed rule sets needs_review too. Reports stored before verdicts existed have none.
    rule_verdicts: list[RuleVerdict] = []


class Scores(Contract):
    """Each 0-10; `breakdown` holds the counts and inputs behind every figure."""

    vulnerability: float
    rhythm_match: float
    formality_match: float
    burstiness: float
    jargon_penalty: float
    link_penalty: float
    overall: float
    breakdown: dict[str, Any] = {}


class GeneratedDraft(Contract):
    """A draft as the generator produced it, before it is stored."""

    campaign_id: UUID
    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    parent_draft_id: UUID | None = None
    subreddit: Subreddit
    archetype: Archetype
    account_status: AccountStatus
    title: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
    body: Annotated[str, Field(min_length=1, max_length=BODY_MAX)]
    scores: Scores
    validation: ValidationReport
    model_used: str
    token_count: Annotated[int, Field(ge=0)] = 0
    cost_usd: Annotated[float, Field(ge=0)] = 0.0
    generation_params: GenerationParams
    warnings: list[str] = []
    # The post flair, where the community requires one (the generator picks one of the list;
    # the user may change it).
    flair: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class EditReport(Contract):
    """The user's edited text checked and scored by the same rules as the generated text."""

    title: str
    validation: ValidationReport
    scores: Scores
    checked_at: datetime


class Draft(GeneratedDraft):
    """A stored draft, as the API and the `complete` stream message show it.

    `title`, `body`, `scores` and `validation` stay as generated; the user's versions are
    `user_title` and `user_edits`, checked into `edit_report`. `needs_review` is the current
    report's verdict (the edit's once there is one).
    """

    id: UUID
    task_id: UUID
    status: DraftStatus = DraftStatus.GENERATED
    user_edits: str | None = None
    user_title: str | None = None
    edit_report: EditReport | None = None
    needs_review: bool = False
    feedback: str | None = None  # what the user asked for when this draft was regenerated
    created_at: datetime
    updated_at: datetime
    version: str | None = Field(
        default=None, description="opaque version of this state; send it back as If-Match"
    )
