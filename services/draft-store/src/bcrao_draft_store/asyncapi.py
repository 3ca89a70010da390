"""draft-store's AsyncAPI document: what it consumes and publishes, with each payload's schema.

A documentation-only FastStream broker: the consumers (handlers.py) take raw record batches so
they can dead-letter one bad message and keep the rest, which leaves FastStream nothing to infer
a payload schema from. This module declares the same topics, consumer group and events with
their contract types. The broker is never started, so the declared handlers never run.

`document(settings)` is what `make docs` writes to docs/asyncapi/draft-store.yaml (and what an
`/asyncapi.json` route would serve).
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import Any

from bcrao_contracts.events import DraftGenerated, DraftStored, GenerationFailed
from bcrao_contracts.topics import Topics, dlq
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field

from .config import Settings

DESCRIPTION = (
    "Stores drafts and the quota ledger. Consumes each task's outcome from the generator "
    "(DraftGenerated or GenerationFailed, in batches, at least once; applying one twice changes "
    "nothing), and announces every stored draft with DraftStored. Every event is keyed by its "
    "task id. Messages it can never apply go to the topic's .dlq with x-dlq-* headers "
    "(docs/OPERATIONS.md: listing and replaying dead letters)."
)
DEAD_LETTER = (
    "A message of {topic} that could not be parsed or applied, or kept failing. The value is the "
    "original payload (header x-dlq-payload=inline) or, when it was too large to copy, a "
    "DeadLetterReference to where it is (x-dlq-payload=reference). Headers: x-dlq-reason "
    "(unreadable|unsupported|unprocessable|exhausted), x-dlq-error, x-dlq-original-topic, "
    "x-dlq-original-partition, x-dlq-original-offset, x-dlq-attempts, x-dlq-consumer."
)


class RecordLocation(BaseModel):
    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class DeadLetterReference(BaseModel):
    """Stands in for a dead letter's payload that was too large to copy."""

    ref: RecordLocation
    size: int = Field(ge=0, description="bytes of the original payload")


def _documented(*_: object) -> None:
    raise RuntimeError("documentation only: handlers.py consumes these topics")


async def on_draft_generated(event: DraftGenerated) -> None:
    """Store the task's draft once, mark its quota unit used, complete the task, then publish
    DraftStored. Consumed in batches (one transaction and one offset commit per batch)."""
    _documented(event)


async def on_generation_failed(event: GenerationFailed) -> None:
    """Mark the task failed and release its quota unit. Consumed in batches."""
    _documented(event)


def asyncapi(settings: Settings) -> AsyncAPI:
    topics = Topics(settings.topic_prefix)
    router = KafkaRouter()
    router.publisher(
        topics.stored,
        schema=DraftStored,
        title=f"{topics.stored}:DraftStored",
        description="A task's draft is persisted: the gateway ends the task's stream with it.",
    )
    for topic in (topics.generated, topics.failed):
        router.publisher(
            dlq(topic),
            schema=Any | DeadLetterReference,
            title=f"{dlq(topic)}:DeadLetter",
            description=DEAD_LETTER.format(topic=topic),
        )
    for topic, handler, event in (
        (topics.generated, on_draft_generated, "DraftGenerated"),
        (topics.failed, on_generation_failed, "GenerationFailed"),
    ):
        router.subscriber(
            topic,
            group_id=settings.consumer_group,
            title=f"{topic}:{event}",
            description=inspect.cleandoc(handler.__doc__ or ""),
        )(handler)
    broker = KafkaBroker(settings.kafka_bootstrap_servers, description=DESCRIPTION)
    broker.include_router(router)
    return AsyncAPI(broker, title="BC-RAO draft-store", version=version("bcrao-draft-store"))


def document(settings: Settings) -> dict[str, Any]:
    jsonable: dict[str, Any] = asyncapi(settings).to_specification().to_jsonable()
    return jsonable
