"""Per-task progress: stage statuses and coalesced text chunks, numbered by a gap-free seq."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from bcrao_contracts.enums import Stage
from bcrao_contracts.events import ProgressUpdated

Publish = Callable[[ProgressUpdated], Awaitable[None]]
PRODUCER = "generator"


class Progress:
    """Numbers every message of one task from 1; chunks are batched for `interval` seconds.

    Statuses flush pending text first, so the stream's order is the order things happened.
    """

    def __init__(
        self,
        task_id: UUID,
        publish: Publish,
        *,
        interval: float = 0.1,
        max_pending: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._task_id = task_id
        self._publish = publish
        self._interval = interval
        self._max_pending = max_pending
        self._clock = clock
        self._seq = 0
        self._pending: list[str] = []
        self._pending_len = 0
        self._last_flush = clock()
        # For the time-to-first-token metric: when the LLM was called, when its text came.
        self.generating_at: float | None = None
        self.first_text_at: float | None = None

    @property
    def time_to_first_text(self) -> float | None:
        if self.generating_at is None or self.first_text_at is None:
            return None
        return self.first_text_at - self.generating_at

    @property
    def last_seq(self) -> int:
        return self._seq

    def next_seq(self) -> int:
        """Reserve the next seq (the terminal event's)."""
        self._seq += 1
        return self._seq

    async def status(self, stage: Stage, message: str, *, restart: bool = False) -> None:
        if stage is Stage.GENERATING and self.generating_at is None:
            self.generating_at = self._clock()
        await self.flush()
        await self._publish(
            ProgressUpdated(
                task_id=self._task_id,
                producer=PRODUCER,
                seq=self.next_seq(),
                kind="status",
                stage=stage,
                message=message,
                restart=restart,
            )
        )

    async def restart(self, reason: str) -> None:
        """The text streamed so far is void: the model starts over (streams show `restart`)."""
        await self.status(Stage.GENERATING, reason, restart=True)

    async def chunk(self, text: str) -> None:
        if not text:
            return
        if self.first_text_at is None:
            self.first_text_at = self._clock()
        self._pending.append(text)
        self._pending_len += len(text)
        now = self._clock()
        if now - self._last_flush >= self._interval or self._pending_len >= self._max_pending:
            await self.flush()

    async def flush(self) -> None:
        self._last_flush = self._clock()
        if not self._pending:
            return
        content = "".join(self._pending)
        self._pending.clear()
        self._pending_len = 0
        await self._publish(
            ProgressUpdated(
                task_id=self._task_id,
                producer=PRODUCER,
                seq=self.next_seq(),
                kind="chunk",
                content=content,
            )
        )
