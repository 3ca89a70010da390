"""Ordered commits of out-of-order completions: which offset of a partition is safe to commit.

Messages of one partition are started in offset order but finish in any order (a 3 s
generation started after a 40 s one finishes first). Kafka stores one committed offset per
partition meaning "everything before this is done", so the offset we may commit is the lowest
offset still in flight, or one past the last started offset when nothing is in flight.

Pure bookkeeping, no I/O: the consumer (consumer.py) calls it from one event loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)


@dataclass
class _Partition:
    # Started offsets, ascending, from the lowest one still running on; `running` is the
    # subset not finished yet.
    started: deque[int] = field(default_factory=deque)
    running: set[int] = field(default_factory=set)
    last_started: int = -1
    committed: int | None = None

    def commit_point(self) -> int | None:
        # Everything before the first unfinished offset is done; with none unfinished, the
        # next offset to read is one past the last one started (offsets may have gaps).
        while self.started and self.started[0] not in self.running:
            self.started.popleft()
        if self.started:
            return self.started[0]
        return self.last_started + 1 if self.last_started >= 0 else None


class OffsetTracker(Generic[P]):
    """In-flight offsets per partition, and the offsets that are safe to commit."""

    def __init__(self) -> None:
        self._parts: dict[P, _Partition] = {}

    def started(self, partition: P, offset: int) -> None:
        part = self._parts.setdefault(partition, _Partition())
        if offset <= part.last_started:
            # A partition is fetched in order; anything else means the caller lost track
            # (a seek without forget()), and committing from here could skip messages.
            raise ValueError(f"offset {offset} started after {part.last_started}")
        part.started.append(offset)
        part.running.add(offset)
        part.last_started = offset

    def finished(self, partition: P, offset: int) -> None:
        """Mark one offset done. Unknown partitions (revoked meanwhile) are ignored."""
        part = self._parts.get(partition)
        if part is not None:
            part.running.discard(offset)

    def in_flight(self, partition: P | None = None) -> int:
        parts = self._parts.values() if partition is None else [self._parts.get(partition)]
        return sum(len(p.running) for p in parts if p is not None)

    def commit_point(self, partition: P) -> int | None:
        part = self._parts.get(partition)
        return part.commit_point() if part else None

    def committable(self, partitions: list[P] | None = None) -> dict[P, int]:
        """Commit points that moved since the last `mark_committed`."""
        wanted = self._parts if partitions is None else partitions
        out: dict[P, int] = {}
        for partition in wanted:
            part = self._parts.get(partition)
            if part is None:
                continue
            point = part.commit_point()
            if point is not None and point != part.committed:
                out[partition] = point
        return out

    def mark_committed(self, offsets: dict[P, int]) -> None:
        for partition, offset in offsets.items():
            part = self._parts.get(partition)
            if part is not None:
                part.committed = offset

    def done(self, partition: P) -> tuple[int | None, set[int]]:
        """What is finished: every offset below the commit point, and the finished offsets
        above it (a revocation whose commit failed must not have them run again)."""
        part = self._parts.get(partition)
        if part is None:
            return None, set()
        point = part.commit_point()
        return point, {o for o in part.started if o not in part.running}

    def forget(self, partition: P) -> None:
        """The partition was revoked: its next owner starts from the committed offset."""
        self._parts.pop(partition, None)

    def partitions(self) -> list[P]:
        return list(self._parts)
