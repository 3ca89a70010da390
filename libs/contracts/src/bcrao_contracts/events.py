"""The five events of the generate flow. Kafka key = task id; schema_version bumps side by side.

Consumers decode with `parse_event` / `parse_as`, which dispatch on (event_type, schema_version):
every version a consumer knows is turned into the model it works with, and an unknown pair is
refused as `UnsupportedEvent` (dead-lettered, never half-read). Producers keep writing the oldest
version every deployed consumer understands; a new version ships to consumers first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, Field, WithJsonSchema, model_validator

from . import topics
from .base import Contract, storable_json
from .enums import (
    HTTP_ONLY_CODES,
    AccountStatus,
    Archetype,
    ErrorCode,
    HumanizerLevel,
    Plan,
    Stage,
)
from .models import (
    CONTEXT_MAX,
    FEEDBACK_MAX,
    BlacklistEntry,
    CampaignSnapshot,
    CommunityProfile,
    Draft,
    GeneratedDraft,
    ParentDraft,
    Subreddit,
)


def _now() -> datetime:
    return datetime.now(UTC)


class Event(Contract):
    event_id: UUID = Field(default_factory=uuid4)
    schema_version: Literal[1] = 1
    occurred_at: AwareDatetime = Field(default_factory=_now)
    task_id: UUID
    correlation_id: UUID | None = None
    producer: Annotated[str, Field(min_length=1, max_length=100)]

    @model_validator(mode="before")
    @classmethod
    def _correlate(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("correlation_id") is None and "task_id" in data:
            return {**data, "correlation_id": data["task_id"]}
        return data

    @property
    def key(self) -> bytes:
        return str(self.task_id).encode()


class GenerateRequested(Event):
    """A task was opened and its quota unit reserved; carries everything generation needs."""

    event_type: Literal["GenerateRequested"] = "GenerateRequested"
    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    plan: Plan = Plan.TRIAL
    campaign: CampaignSnapshot
    subreddit: Subreddit
    archetype: Archetype
    account_status: AccountStatus = AccountStatus.ESTABLISHED
    context: Annotated[str, Field(max_length=CONTEXT_MAX)] = ""
    profile: CommunityProfile | None = None
    blacklist: Annotated[list[BlacklistEntry], Field(max_length=500)] = []
    parent_draft_id: UUID | None = None
    feedback: Annotated[str, Field(max_length=FEEDBACK_MAX)] | None = None
    # A regeneration's parent as the user last saw it (their edits where there are some);
    # absent from producers before 0.3 and for first generations.
    parent_draft: ParentDraft | None = None
    humanizer_level: HumanizerLevel = HumanizerLevel.LIGHT


class ProgressUpdated(Event):
    """A stage started (`status`) or a piece of text was written (`chunk`); seq is 1.. gap-free.

    `restart` marks a status that voids the text streamed so far (the model starts over); an
    older consumer that does not know the field still shows it as a plain status.
    """

    event_type: Literal["ProgressUpdated"] = "ProgressUpdated"
    seq: Annotated[int, Field(ge=1)]
    kind: Literal["status", "chunk"]
    stage: Stage | None = None
    message: str | None = None
    content: str | None = None
    restart: bool = False

    @model_validator(mode="after")
    def _shape(self) -> ProgressUpdated:
        if self.kind == "status" and self.stage is None:
            raise ValueError("a status update names its stage")
        if self.kind == "chunk" and not self.content:
            raise ValueError("a chunk carries content")
        return self


class DraftGenerated(Event):
    """The generator finished a draft; `seq` is the one reserved for the stream's `complete`."""

    event_type: Literal["DraftGenerated"] = "DraftGenerated"
    seq: Annotated[int, Field(ge=1)]
    draft: GeneratedDraft


def _event_code(code: ErrorCode) -> ErrorCode:
    if code in HTTP_ONLY_CODES:
        raise ValueError(f"{code} is an HTTP answer's code, never an event's")
    return code


# An ErrorCode without the HTTP-only codes, in Python and in the published schema alike.
EventErrorCode = Annotated[
    ErrorCode,
    AfterValidator(_event_code),
    WithJsonSchema(
        {
            "title": "ErrorCode",
            "type": "string",
            "enum": [c.value for c in ErrorCode if c not in HTTP_ONLY_CODES],
        }
    ),
]


class GenerationFailed(Event):
    """The task ended without a draft; its unit goes back. `seq` is None when no stream began."""

    event_type: Literal["GenerationFailed"] = "GenerationFailed"
    seq: Annotated[int, Field(ge=1)] | None = None
    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    campaign_id: UUID
    code: EventErrorCode
    message: Annotated[str, Field(max_length=1000)]
    details: dict[str, Any] = {}
    retryable: bool = False


class DraftStored(Event):
    """draft-store persisted the task's draft; the stream's `complete` carries it."""

    event_type: Literal["DraftStored"] = "DraftStored"
    seq: Annotated[int, Field(ge=1)]
    draft: Draft


EVENT_TOPICS: dict[type[Event], str] = {
    GenerateRequested: topics.GENERATE_REQUESTED,
    ProgressUpdated: topics.PROGRESS,
    DraftGenerated: topics.GENERATED,
    GenerationFailed: topics.FAILED,
    DraftStored: topics.STORED,
}


def topic_for(event: Event, prefix: str = "") -> str:
    return prefix + EVENT_TOPICS[type(event)]


EVENTS_BY_TYPE: dict[str, type[Event]] = {
    cls.model_fields["event_type"].default: cls for cls in EVENT_TOPICS
}


class ProgressUpdatedV2(Contract):
    """Version 2 of ProgressUpdated, read side by side with version 1.

    It folds the restart marker into `kind` and calls the text `text`. Consumers read it today;
    generators keep writing version 1 until every deployed gateway reads version 2.
    """

    event_id: UUID
    event_type: Literal["ProgressUpdated"] = "ProgressUpdated"
    schema_version: Literal[2] = 2
    occurred_at: AwareDatetime
    task_id: UUID
    correlation_id: UUID | None = None
    producer: Annotated[str, Field(min_length=1, max_length=100)]
    seq: Annotated[int, Field(ge=1)]
    kind: Literal["status", "chunk", "restart"]
    stage: Stage | None = None
    message: str | None = None
    text: str | None = None

    def current(self) -> ProgressUpdated:
        return ProgressUpdated(
            event_id=self.event_id,
            occurred_at=self.occurred_at,
            task_id=self.task_id,
            correlation_id=self.correlation_id,
            producer=self.producer,
            seq=self.seq,
            kind="chunk" if self.kind == "chunk" else "status",
            stage=self.stage if self.kind != "restart" else (self.stage or Stage.GENERATING),
            message=self.message,
            content=self.text,
            restart=self.kind == "restart",
        )


class UnsupportedEvent(ValueError):
    """An event type or schema version this consumer does not know (dead-letter it)."""


Decoder = Callable[[dict[str, Any], bool], Event]  # (document, its text already checked)


def _decoder(cls: type[Event]) -> Decoder:
    return lambda raw, checked: cls.parse(raw, text_checked=checked)


DECODERS: dict[tuple[str, int], Decoder] = {
    **{(name, 1): _decoder(cls) for name, cls in EVENTS_BY_TYPE.items()},
    ("ProgressUpdated", 2): lambda raw, checked: ProgressUpdatedV2.parse(
        raw, text_checked=checked
    ).current(),
}
E = TypeVar("E", bound=Event)


def parse_event(data: bytes | str | dict[str, Any]) -> Event:
    """Decode any event by (event_type, schema_version), tolerating unknown fields.

    Raises UnsupportedEvent for a pair no decoder knows, and ValueError (pydantic's
    ValidationError is one) for a payload that is not JSON or breaks its schema.
    """
    # From the wire (bytes), the escapes tell whether any text can be unstorable: the common
    # case skips the walk over every string.
    checked = isinstance(data, bytes) and storable_json(data)
    raw = data if isinstance(data, dict) else json.loads(data)
    if not isinstance(raw, dict):
        raise ValueError(f"an event is a JSON object, not {type(raw).__name__}")
    event_type, version = raw.get("event_type"), raw.get("schema_version", 1)
    decoder = DECODERS.get((event_type, version)) if isinstance(event_type, str) else None
    if decoder is None:
        if event_type not in EVENTS_BY_TYPE:
            raise UnsupportedEvent(f"unknown event_type: {event_type!r}")
        raise UnsupportedEvent(f"unknown schema_version {version!r} of {event_type}")
    return decoder(raw, checked)


def parse_as(data: bytes | str | dict[str, Any], expected: type[E]) -> E:
    """`parse_event` for a consumer that reads one event type (a topic's own)."""
    event = parse_event(data)
    if not isinstance(event, expected):
        raise UnsupportedEvent(f"{type(event).__name__} where {expected.__name__} was expected")
    return event
