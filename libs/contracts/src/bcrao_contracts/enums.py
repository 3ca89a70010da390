"""The product's closed vocabularies (DOMAIN.md)."""

from collections.abc import Iterable
from enum import StrEnum


class Archetype(StrEnum):
    JOURNEY = "Journey"
    PROBLEM_SOLUTION = "ProblemSolution"
    FEEDBACK = "Feedback"


class AccountStatus(StrEnum):
    NEW = "New"
    WARMING_UP = "WarmingUp"
    ESTABLISHED = "Established"


class Plan(StrEnum):
    TRIAL = "trial"
    STARTER = "starter"
    GROWTH = "growth"


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class DraftStatus(StrEnum):
    GENERATED = "generated"
    EDITED = "edited"
    APPROVED = "approved"
    POSTED = "posted"
    DISCARDED = "discarded"


class UnknownDraftStatus(ValueError):
    def __init__(self, unknown: list[str]) -> None:
        super().__init__(f"unknown draft status: {', '.join(unknown)}")
        self.unknown = unknown
        self.allowed = [status.value for status in DraftStatus]


def parse_draft_statuses(values: Iterable[str] | None) -> list[DraftStatus]:
    """A `status` query filter, repeated (`status=a&status=b`) or comma-separated (`status=a,b`)
    or both: the statuses in first-seen order, without repeats. The one parser of the gateway and
    draft-store; each maps UnknownDraftStatus to its own 422."""
    names = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    allowed = {status.value for status in DraftStatus}
    if unknown := sorted(set(names) - allowed):
        raise UnknownDraftStatus(unknown)
    return [DraftStatus(name) for name in dict.fromkeys(names)]


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # the generator claimed it (draft-store's task claim)
    COMPLETED = "completed"
    FAILED = "failed"


class Tone(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


class BlacklistKind(StrEnum):
    LITERAL = "literal"
    REGEX = "regex"


class BlacklistCategory(StrEnum):
    PROMOTIONAL = "Promotional"
    SELF_REFERENTIAL = "Self-referential"
    LINK_PATTERNS = "Link patterns"
    LOW_EFFORT = "Low-effort"
    SPAM_INDICATORS = "Spam indicators"
    OFF_TOPIC = "Off-topic"
    CUSTOM = "Custom"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class HumanizerLevel(StrEnum):
    """How many casual touches the humanizer adds (DOMAIN.md, "Post-processing")."""

    OFF = "off"  # machine tells removed, nothing added
    LIGHT = "light"  # fillers and dashes; never a lowercase start or a missing final stop
    CASUAL = "casual"  # Reddit-casual: also lowercase starts, a dropped final period, "anyway"


class BlacklistSource(StrEnum):
    USER = "user"
    MONITORING = "monitoring"
    SYSTEM = "system"


class Stage(StrEnum):
    """Progress stages in the order the generator reaches them.

    `finishing`: the draft is done and goes to draft-store to be stored (`complete` follows once
    it is). Up to 0.2.0 it was called `saving`, which still reads as `finishing`.
    """

    LOADING_PROFILE = "loading_profile"
    CHECKING_GATING = "checking_gating"
    BUILDING_PROMPT = "building_prompt"
    GENERATING = "generating"
    VALIDATING = "validating"
    SCORING = "scoring"
    FINISHING = "finishing"

    @classmethod
    def _missing_(cls, value: object) -> "Stage | None":
        # Events of generators up to 0.2.0 may still be in flight when consumers upgrade.
        return cls.FINISHING if value == "saving" else None


class ErrorCode(StrEnum):
    AUTH_REQUIRED = "AUTH_REQUIRED"
    AUTH_INVALID = "AUTH_INVALID"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    PLAN_LIMIT_REACHED = "PLAN_LIMIT_REACHED"
    CONFLICT = "CONFLICT"
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # stream-only
    ISC_ARCHETYPE_BLOCKED = "ISC_ARCHETYPE_BLOCKED"
    WARMUP_ARCHETYPE_BLOCKED = "WARMUP_ARCHETYPE_BLOCKED"
    LLM_UNAVAILABLE = "LLM_UNAVAILABLE"
    GENERATION_FAILED = "GENERATION_FAILED"


# Codes only an HTTP answer carries. Events keep the set they had in contracts 0.2.0: a value
# added to an event's enum would be refused by a consumer a release behind (ADR 0007).
HTTP_ONLY_CODES: frozenset[ErrorCode] = frozenset({ErrorCode.PRECONDITION_FAILED})
