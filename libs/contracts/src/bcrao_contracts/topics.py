"""Kafka topic names. Every event is keyed by its task id, so one task's events share a partition.

A prefix (empty in production) lets tests and parallel deployments share one broker without
seeing each other's events.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERATE_REQUESTED = "drafts.generate-requested"
PROGRESS = "drafts.progress"
GENERATED = "drafts.generated"
FAILED = "drafts.failed"
STORED = "drafts.stored"

ALL = (GENERATE_REQUESTED, PROGRESS, GENERATED, FAILED, STORED)


def dlq(topic: str) -> str:
    """Dead-letter topic for messages of `topic` that cannot be parsed or break their schema."""
    return f"{topic}.dlq"


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    @property
    def generate_requested(self) -> str:
        return self.prefix + GENERATE_REQUESTED

    @property
    def progress(self) -> str:
        return self.prefix + PROGRESS

    @property
    def generated(self) -> str:
        return self.prefix + GENERATED

    @property
    def failed(self) -> str:
        return self.prefix + FAILED

    @property
    def stored(self) -> str:
        return self.prefix + STORED

    def all(self) -> tuple[str, ...]:
        return tuple(self.prefix + t for t in ALL)
