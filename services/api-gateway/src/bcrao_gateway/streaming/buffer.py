"""One task's stream frames, in seq order: the pure part of the hub (no asyncio, no clock).

Invariants (property-tested in tests/streaming/test_buffer.py):
- `floor <= frontier`: seqs up to `floor` were evicted to bound memory; every seq in
  (floor, frontier] is buffered, or was a gap that was given up on (`skip_gap`).
- `frontier` only grows, and streams are only ever handed frames up to it, so a reader that
  follows the buffer sees increasing seqs with no gap except one the buffer gave up on.
- `top` is the highest buffered seq; `top > frontier` means a later seq is held for a gap.
- Once a terminal is in, nothing after it is kept and no second terminal is accepted.
- At most `max_frames` frames are held; a terminal always gets in (one over the limit at most).
"""

from __future__ import annotations

import enum
from collections.abc import Callable


class Offer(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # already buffered, delivered, evicted, or after the terminal
    FULL = "full"  # every buffered frame is still held for a gap: the newcomer is refused


class TaskBuffer:
    __slots__ = ("floor", "frames", "frontier", "gap_since", "max_frames", "terminal_seq", "top")

    def __init__(self, max_frames: int) -> None:
        self.max_frames = max_frames
        self.frames: dict[int, bytes] = {}
        self.floor = 0
        self.frontier = 0
        self.top = 0
        self.terminal_seq: int | None = None
        self.gap_since: float | None = None  # when the current gap opened (caller's clock)

    @property
    def finished(self) -> bool:
        return self.terminal_seq is not None and self.frontier >= self.terminal_seq

    def next_seq(self) -> int:
        """The seq a failure without one takes (a failure before any stream began)."""
        return max(self.top, self.floor) + 1

    def is_duplicate(self, seq: int, *, terminal: bool) -> bool:
        return (
            seq <= self.floor
            or seq in self.frames
            or seq <= self.frontier  # buffered already, or a gap the streams were moved past
            or (self.terminal_seq is not None and (terminal or seq > self.terminal_seq))
        )

    def offer(
        self, seq: int, frame: Callable[[], bytes], *, terminal: bool, now: float
    ) -> tuple[Offer, bool]:
        """Buffer the frame of `seq` (built only if kept). Returns (what happened, whether the
        frontier moved, i.e. whether streams have something new to take)."""
        if self.is_duplicate(seq, terminal=terminal):
            return Offer.DUPLICATE, False
        if terminal:
            self.terminal_seq = seq
            for late in [s for s in self.frames if s > seq]:
                del self.frames[late]
            self.top = min(self.top, seq)
        self.frames[seq] = frame()
        self.top = max(self.top, seq)
        if not self._bound(seq, terminal):
            return Offer.FULL, False
        return Offer.ACCEPTED, self._advance(now)

    def _bound(self, seq: int, terminal: bool) -> bool:
        while len(self.frames) > self.max_frames:
            oldest = self.floor + 1
            if oldest <= self.frontier:  # evict the oldest delivered frame; late joiners skip it
                self.frames.pop(oldest, None)
                self.floor = oldest
            elif not terminal:
                del self.frames[seq]
                self.top = max(self.frames, default=self.frontier)
                return False
            else:
                break  # a terminal always gets in, even one frame over the limit
        return True

    def _advance(self, now: float) -> bool:
        before = self.frontier
        while self.frontier + 1 in self.frames:
            self.frontier += 1
        if self.top > self.frontier:
            if self.gap_since is None:
                self.gap_since = now
        else:
            self.gap_since = None
        return self.frontier > before

    def skip_gap(self, now: float) -> tuple[int, int] | None:
        """Give up on the missing seqs before the next buffered one; returns the skipped range
        (first, last) and moves the frontier, or None when there is no gap."""
        nxt = min((s for s in self.frames if s > self.frontier), default=None)
        if nxt is None:
            self.gap_since = None
            return None
        skipped = (self.frontier + 1, nxt - 1)
        self.frontier = nxt - 1
        self._advance(now)
        return skipped

    def after(self, cursor: int) -> tuple[list[bytes], int]:
        """Frames after `cursor` up to the frontier, and the cursor to resume from."""
        start = max(cursor, self.floor)  # only a task that outgrew its buffer: skip ahead
        out = [f for s in range(start + 1, self.frontier + 1) if (f := self.frames.get(s))]
        return out, max(start, self.frontier)
