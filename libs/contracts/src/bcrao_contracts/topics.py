"""Kafka topic names. Every event is keyed by its task id, so one task's events share a partition."""

GENERATE_REQUESTED = "drafts.generate-requested"
PROGRESS = "drafts.progress"
GENERATED = "drafts.generated"
FAILED = "drafts.failed"
STORED = "drafts.stored"

ALL = (GENERATE_REQUESTED, PROGRESS, GENERATED, FAILED, STORED)


def dlq(topic: str) -> str:
    """Dead-letter topic for messages of `topic` that cannot be parsed or break their schema."""
    return f"{topic}.dlq"
