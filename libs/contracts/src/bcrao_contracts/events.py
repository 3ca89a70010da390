"""The five events of the generate flow. Kafka key = task id; schema_version bumps side by side."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, model_validator

from . import topics
from .base import Contract
from .enums import AccountStatus, Archetype, ErrorCode, Plan, Stage
from .models import (
    CONTEXT_MAX,
    FEEDBACK_MAX,
    BlacklistEntry,
    CampaignSnapshot,
    CommunityProfile,
    Draft,
    GeneratedDraft,
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


class ProgressUpdated(Event):
    """A stage started (`status`) or a piece of text was written (`chunk`); seq is 1.. gap-free."""

    event_type: Literal["ProgressUpdated"] = "ProgressUpdated"
    seq: Annotated[int, Field(ge=1)]
    kind: Literal["status", "chunk"]
    stage: Stage | None = None
    message: str | None = None
    content: str | None = None

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


class GenerationFailed(Event):
    """The task ended without a draft; its unit goes back. `seq` is None when no stream began."""

    event_type: Literal["GenerationFailed"] = "GenerationFailed"
    seq: Annotated[int, Field(ge=1)] | None = None
    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    campaign_id: UUID
    code: ErrorCode
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


def parse_event(data: bytes | str | dict[str, Any]) -> Event:
    """Parse any event by its `event_type`, tolerating unknown fields."""
    import json

    raw = data if isinstance(data, dict) else json.loads(data)
    cls = EVENTS_BY_TYPE.get(raw.get("event_type", "")) if isinstance(raw, dict) else None
    if cls is None:
        raise ValueError(
            f"unknown event_type: {raw.get('event_type') if isinstance(raw, dict) else raw!r}"
        )
    return cls.parse(raw)
