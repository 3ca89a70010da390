"""Server-Sent Event messages of DOMAIN.md: unnamed, each with an `id:` and a typed JSON body."""

from __future__ import annotations

from typing import Any, Literal

from .base import Contract
from .enums import ErrorCode, Stage
from .models import Draft


class StatusMessage(Contract):
    type: Literal["status"] = "status"
    stage: Stage
    message: str


class ChunkMessage(Contract):
    type: Literal["chunk"] = "chunk"
    content: str


class RestartMessage(Contract):
    """The text streamed so far is void: the model starts over (a cut stream, a fallback)."""

    type: Literal["restart"] = "restart"
    reason: str


class CompleteMessage(Contract):
    type: Literal["complete"] = "complete"
    draft: Draft


class ErrorMessage(Contract):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    details: dict[str, Any] = {}


StreamMessage = StatusMessage | ChunkMessage | RestartMessage | CompleteMessage | ErrorMessage
TERMINAL_TYPES = frozenset({"complete", "error"})


def encode(seq: int, message: StreamMessage) -> bytes:
    """One SSE frame: `id:` then a single `data:` line (JSON never contains a raw newline)."""
    return b"id: %d\ndata: %s\n\n" % (seq, message.model_dump_json().encode())


def encode_retry(milliseconds: int) -> bytes:
    return b"retry: %d\n\n" % milliseconds


PING = b": ping\n\n"


class ChangeMessage(Contract):
    """One message of the per-user change feed (`GET /v1/changes`): something the user owns
    changed, in another tab or by the pipeline. The page reloads what it shows of it; `version`
    is the new version (None when the resource is gone)."""

    type: Literal["change"] = "change"
    kind: Literal["draft", "campaign", "profile", "blacklist"]
    action: Literal["stored", "edited", "approved", "discarded", "changed", "created", "deleted"]
    id: str
    campaign_id: str | None = None
    version: str | None = None
    status: str | None = None
