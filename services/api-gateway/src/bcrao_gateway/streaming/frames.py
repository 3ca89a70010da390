"""Events and draft-store task states turned into SSE frames (DOMAIN.md "SSE stream")."""

from __future__ import annotations

from bcrao_contracts.api import TaskState
from bcrao_contracts.enums import ErrorCode, TaskStatus
from bcrao_contracts.events import DraftStored, Event, GenerationFailed, ProgressUpdated
from bcrao_contracts.sse import (
    ChunkMessage,
    CompleteMessage,
    ErrorMessage,
    RestartMessage,
    StatusMessage,
    StreamMessage,
    encode,
)

FAREWELL = b": gateway shutting down, reconnect\n\n"


def message_for(event: Event) -> StreamMessage:
    if isinstance(event, ProgressUpdated):
        if event.kind == "chunk":
            return ChunkMessage(content=event.content or "")
        if event.restart:
            return RestartMessage(reason=event.message or "the model started over")
        assert event.stage is not None  # the contract's validator guarantees it for status
        return StatusMessage(stage=event.stage, message=event.message or event.stage.value)
    if isinstance(event, DraftStored):
        return CompleteMessage(draft=event.draft)
    if isinstance(event, GenerationFailed):
        return ErrorMessage(code=event.code, message=event.message, details=event.details)
    raise TypeError(f"{type(event).__name__} is not streamed")


def frame_for(seq: int, event: Event) -> bytes:
    return encode(seq, message_for(event))


def final_frame(state: TaskState) -> tuple[int, bytes] | None:
    """The terminal message of a finished task as draft-store remembers it; None while queued."""
    seq = state.terminal_seq or 1
    if state.status is TaskStatus.COMPLETED and state.draft is not None:
        return seq, encode(seq, CompleteMessage(draft=state.draft))
    if state.status is TaskStatus.FAILED:
        try:
            code = ErrorCode(state.error_code or ErrorCode.GENERATION_FAILED)
        except ValueError:  # a code newer than this gateway: still a failure, just not a known one
            code = ErrorCode.GENERATION_FAILED
        message = state.error_message or "generation failed"
        error = ErrorMessage(code=code, message=message, details=state.error_details)
        return seq, encode(seq, error)
    return None
