"""Failed attempts per message, until bcrao_platform.deadletter.AttemptTracker replaces it.

Same interface as the platform's: the consumer records each failure of a message and
dead-letters it once `max_attempts` failures are reached, so a poison message cannot block its
partition forever.
"""

from __future__ import annotations


class AttemptTracker:
    def __init__(self, max_attempts: int) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._max = max_attempts
        self._failures: dict[tuple[str, int, int], int] = {}

    def record_failure(self, topic: str, partition: int, offset: int) -> int:
        key = (topic, partition, offset)
        self._failures[key] = self._failures.get(key, 0) + 1
        return self._failures[key]

    def exhausted(self, topic: str, partition: int, offset: int) -> bool:
        return self._failures.get((topic, partition, offset), 0) >= self._max

    def forget(self, topic: str, partition: int, offset: int) -> None:
        self._failures.pop((topic, partition, offset), None)
