"""Request and response bodies of the public API (and draft-store's internal API, which mirrors it).

Every string and list is bounded: the gateway rejects oversize input before it travels further.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AnyHttpUrl, Field, Strict, StringConstraints, field_validator

from .base import Contract
from .enums import (
    AccountStatus,
    Archetype,
    BlacklistCategory,
    BlacklistKind,
    BlacklistSource,
    CampaignStatus,
    DraftStatus,
    HumanizerLevel,
    Plan,
    Severity,
    TaskStatus,
    Tone,
)
from .models import (
    BODY_MAX,
    CONTEXT_MAX,
    FEEDBACK_MAX,
    SUBREDDIT_INPUT_PATTERN,
    TITLE_MAX,
    BlacklistEntry,
    CommunityProfile,
    Draft,
    StyleGuide,
    normalize_subreddit,
)
from .requirements import FLAIR_MAX, CommunityRequirements

Keyword = Annotated[str, Field(min_length=1, max_length=100)]
SubredditInput = Annotated[str, Field(max_length=30, pattern=SUBREDDIT_INPUT_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=2000)]
ProductContext = Annotated[str, Field(min_length=10, max_length=5000)]
# Numbers in request bodies are JSON numbers: `true` is not 1.0 and "7" is not 7.0 (lax pydantic
# would coerce both). An integer is still a valid float (7 for 7.0), as JSON itself has one number.
StrictFloat = Annotated[float, Strict()]
StrictInt = Annotated[int, Strict()]


def bare_domain_url(value: Any) -> Any:
    """`plotwise.app` or `www.plotwise.app/pricing` is taken as `https://…`: people write web
    addresses without the scheme. Anything else is left for the URL type to judge."""
    if isinstance(value, str):
        text = value.strip()
        head = text.split("/", 1)[0]
        if text and "://" not in text and "." in head and " " not in text:
            return f"https://{text}"
    return value


def _subreddits(values: Any) -> Any:
    if isinstance(values, list):
        return [normalize_subreddit(v) if isinstance(v, str) else v for v in values]
    return values


class CampaignCreate(Contract):
    name: Name
    description: Description | None = None
    product_context: ProductContext
    product_url: AnyHttpUrl | None = None
    keywords: Annotated[list[Keyword], Field(min_length=5, max_length=15)]
    target_subreddits: Annotated[list[SubredditInput], Field(min_length=1, max_length=50)]
    status: CampaignStatus = CampaignStatus.ACTIVE
    # How many casual touches the humanizer adds to this campaign's drafts (DOMAIN.md).
    humanizer_level: HumanizerLevel = HumanizerLevel.LIGHT

    _norm = field_validator("target_subreddits", mode="before")(
        classmethod(lambda cls, v: _subreddits(v))
    )
    _url = field_validator("product_url", mode="before")(
        classmethod(lambda cls, v: bare_domain_url(v))
    )


class CampaignUpdate(Contract):
    """PATCH: only the fields sent change. `description` and `product_url` may be cleared with
    null; the others cannot be null (their type says so, and the default only means "not sent")."""

    name: Name = None  # type: ignore[assignment]
    description: Description | None = None
    product_context: ProductContext = None  # type: ignore[assignment]
    product_url: AnyHttpUrl | None = None
    keywords: Annotated[list[Keyword], Field(min_length=5, max_length=15)] = None  # type: ignore[assignment]
    target_subreddits: Annotated[list[SubredditInput], Field(min_length=1, max_length=50)] = None  # type: ignore[assignment]
    status: CampaignStatus = None  # type: ignore[assignment]
    humanizer_level: HumanizerLevel = None  # type: ignore[assignment]

    _norm = field_validator("target_subreddits", mode="before")(
        classmethod(lambda cls, v: _subreddits(v))
    )
    _url = field_validator("product_url", mode="before")(
        classmethod(lambda cls, v: bare_domain_url(v))
    )


class Campaign(Contract):
    id: UUID
    user_id: str
    name: str
    description: str | None
    product_context: str
    product_url: str | None
    keywords: list[str]
    target_subreddits: list[str]
    status: CampaignStatus
    created_at: datetime
    updated_at: datetime
    # Added in 0.3; an older draft-store does not send it.
    humanizer_level: HumanizerLevel = HumanizerLevel.LIGHT
    version: str | None = Field(
        default=None, description="opaque version of this state; send it back as If-Match"
    )


class CampaignList(Contract):
    campaigns: list[Campaign]
    total: int


class ProfileIn(Contract):
    """PUT body of a community profile; the subreddit comes from the path."""

    isc_score: Annotated[StrictFloat, Field(ge=1.0, le=10.0)]
    avg_sentence_length: Annotated[StrictFloat, Field(gt=0, le=100)]
    dominant_tone: Tone = Tone.NEUTRAL
    formality_level: Annotated[StrictFloat, Field(ge=1, le=20)]
    top_success_hooks: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=1000)]], Field(max_length=50)
    ] = []
    example_posts: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=10_000)]], Field(max_length=10)
    ] = []
    style_guide: StyleGuide | None = None
    archetype_distribution: dict[Archetype, Annotated[StrictFloat, Field(ge=0, le=1)]] = {}
    sample_size: Annotated[StrictInt, Field(ge=0, le=10_000_000)] = 0
    analyzed_at: datetime | None = None
    requirements: CommunityRequirements | None = None


class Profile(CommunityProfile):
    campaign_id: UUID
    isc_tier: str
    updated_at: datetime
    version: str | None = Field(
        default=None, description="opaque version of this state; send it back as If-Match"
    )


class ProfileList(Contract):
    profiles: list[Profile]


class BlacklistEntryCreate(Contract):
    kind: BlacklistKind = BlacklistKind.LITERAL
    pattern: Annotated[str, Field(min_length=1, max_length=500)]
    description: Annotated[str, Field(min_length=1, max_length=300)]
    category: BlacklistCategory = BlacklistCategory.CUSTOM
    severity: Severity = Severity.MEDIUM
    subreddit: SubredditInput | None = Field(
        default=None,
        description="limit the entry to one subreddit of the campaign; omit for campaign-wide",
    )
    source: BlacklistSource = BlacklistSource.USER

    @field_validator("subreddit", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return normalize_subreddit(value) if isinstance(value, str) else value


class BlacklistEntryUpdate(Contract):
    """PATCH of one of the user's own entries: only the fields sent change. `subreddit` null makes
    the entry campaign-wide; the others cannot be null. The pattern, with the entry's kind (sent
    or kept), is checked like a new entry's (RE2)."""

    kind: BlacklistKind = None  # type: ignore[assignment]
    pattern: Annotated[str, Field(min_length=1, max_length=500)] = None  # type: ignore[assignment]
    description: Annotated[str, Field(min_length=1, max_length=300)] = None  # type: ignore[assignment]
    category: BlacklistCategory = None  # type: ignore[assignment]
    severity: Severity = None  # type: ignore[assignment]
    subreddit: SubredditInput | None = Field(
        default=None,
        description="limit the entry to one subreddit of the campaign; null for campaign-wide",
    )

    @field_validator("subreddit", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return normalize_subreddit(value) if isinstance(value, str) else value


class PatternPreviewRequest(Contract):
    """Try a pattern on sample text with the engine that checks drafts (RE2), before saving it."""

    kind: BlacklistKind = BlacklistKind.LITERAL
    pattern: Annotated[str, Field(min_length=1, max_length=500)]
    text: Annotated[str, Field(max_length=10_000)]


class PatternMatch(Contract):
    start: int
    end: int
    text: str


class PatternPreview(Contract):
    """Where the pattern matches, exactly as a saved entry would match a draft; `problem` says
    why the engine cannot run it (then nothing matches and it cannot be saved either)."""

    problem: str | None = None
    matches: list[PatternMatch] = []
    case_sensitive: bool


class BlacklistEntryOut(BlacklistEntry):
    """An entry as the API shows it: with its version (events carry entries without one)."""

    version: str | None = Field(
        default=None, description="opaque version of this state; send it back as If-Match"
    )


class BlacklistList(Contract):
    entries: list[BlacklistEntryOut]


class GenerateRequest(Contract):
    subreddit: SubredditInput
    archetype: Archetype
    account_status: AccountStatus = AccountStatus.ESTABLISHED
    context: Annotated[str, Field(max_length=CONTEXT_MAX)] = ""

    @field_validator("subreddit", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return normalize_subreddit(value) if isinstance(value, str) else value


class RegenerateRequest(Contract):
    feedback: Annotated[str, Field(max_length=FEEDBACK_MAX)] | None = None


class GenerateAccepted(Contract):
    task_id: UUID
    status: TaskStatus = TaskStatus.QUEUED
    stream_url: str


class DraftList(Contract):
    drafts: list[Draft]
    total: int


class DraftPatch(Contract):
    """Saving `title` or `user_edits` re-checks the edited text (its own `edit_report`).
    Approving a draft whose current report needs review requires `confirm_needs_review: true`."""

    status: DraftStatus | None = None
    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
        | None
    ) = None
    user_edits: Annotated[str, Field(max_length=BODY_MAX)] | None = None
    # The post flair; an empty string clears it. Saving it re-checks the draft like an edit.
    flair: Annotated[str, StringConstraints(strip_whitespace=True, max_length=FLAIR_MAX)] | None = (
        None
    )
    confirm_needs_review: Annotated[bool, Field(strict=True)] = False


class Usage(Contract):
    plan: Plan
    period_start: datetime
    resets_at: datetime
    drafts_used: int
    drafts_limit: int | None
    spend_usd: float
    spend_limit_usd: float
    drafts_warning: bool = Field(
        default=False, description="80 % or more of the month's drafts are used"
    )
    spend_warning: bool = Field(
        default=False, description="80 % or more of the month's spend cap is used"
    )
    generate_per_minute: int | None = Field(
        default=None, description="generate/regenerate requests allowed per minute (gateway)"
    )
    generate_remaining_this_minute: int | None = Field(
        default=None, description="how many of those are left right now (gateway)"
    )


class InFlightTask(Contract):
    """A generation of the campaign that is queued or running: a page that was reloaded (or
    opened in another tab) re-attaches to its stream (`stream_url`, set by the gateway)."""

    task_id: UUID
    campaign_id: UUID
    status: TaskStatus
    kind: str  # generate | regenerate
    subreddit: str | None = None
    archetype: str | None = None
    parent_draft_id: UUID | None = None
    created_at: datetime
    stream_url: str | None = None


class InFlightTaskList(Contract):
    tasks: list[InFlightTask]


class TaskState(Contract):
    """draft-store's view of a task, for streams whose events are no longer buffered."""

    task_id: UUID
    campaign_id: UUID
    user_id: str
    status: TaskStatus
    terminal_seq: int | None = None
    draft: Draft | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_details: dict[str, Any] = {}
