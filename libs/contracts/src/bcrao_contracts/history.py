"""A draft's audit trail: who changed what and when, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from .base import Contract
from .enums import DraftStatus

HistoryAction = Literal["generated", "status_changed", "edited", "regenerated"]


class FieldChange(Contract):
    """One edited field: its length before and after, and a short diff of the changed region."""

    field: Literal["title", "user_edits"]
    before_length: int
    after_length: int
    diff: str


class FlairChange(Contract):
    """The post flair, before and after (empty: none). Its own optional field rather than a
    third `FieldChange.field` value: a gateway of an earlier release reads this history too, and
    an enum value it does not know would fail its parse (ADR 0007)."""

    before: str = ""
    after: str = ""


class HistoryEntry(Contract):
    at: datetime
    actor: str  # the user id of who acted; generation entries name the requester
    action: HistoryAction
    from_status: DraftStatus | None = None
    to_status: DraftStatus | None = None
    changes: list[FieldChange] = []
    flair_change: FlairChange | None = None
    # Approving a draft whose report has high-severity hits needs an explicit confirmation.
    confirmed_needs_review: bool = False
    # `generated`: the parent this draft was regenerated from; `regenerated`: the new draft.
    related_draft_id: UUID | None = None
    feedback: str | None = None
    # The labels of the rules the text failed at this point (generated, edited, approved).
    failed_rules: list[str] = []


class DraftHistory(Contract):
    draft_id: UUID
    parent_draft_id: UUID | None = None
    entries: list[HistoryEntry]
