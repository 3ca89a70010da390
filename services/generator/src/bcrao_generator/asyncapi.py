"""The generator's AsyncAPI document, from a FastStream declaration of what it consumes and
publishes.

The publishers are the very ones the service sends with (publishers.py). The subscriber is
declared for the document only: OrderedConsumer (consumer.py) does the consuming, because
FastStream's subscriber cannot commit out-of-order completions in order. This broker is never
started, so the declared handler never runs.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.topics import Topics
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry

from .config import Settings
from .metrics import GeneratorMetrics
from .publishers import Publishers

DESCRIPTION = (
    "Runs one generation per GenerateRequested: gating, prompt, LLM stream, post-processing, "
    "validation, scoring. Publishes the task's progress, then exactly one terminal event "
    "(DraftGenerated or GenerationFailed). Every event is keyed by its task id."
)


async def on_generate_requested(request: GenerateRequested) -> None:
    """One requested draft: claim the task, generate, publish progress and one outcome."""
    raise RuntimeError("documentation only: OrderedConsumer consumes this topic")


def asyncapi(settings: Settings) -> AsyncAPI:
    topics = Topics(settings.topic_prefix)
    router = KafkaRouter()
    Publishers(router, topics, GeneratorMetrics(CollectorRegistry()))
    router.subscriber(
        topics.generate_requested,
        group_id=settings.group_id,
        title=f"{topics.generate_requested}:GenerateRequested",
        description="Tasks to generate; at-least-once, ordered commits per partition.",
    )(on_generate_requested)
    broker = KafkaBroker(settings.kafka_bootstrap_servers, description=DESCRIPTION)
    broker.include_router(router)
    return AsyncAPI(broker, title="BC-RAO generator", version=version("bcrao-generator"))


def document(settings: Settings) -> dict[str, Any]:
    jsonable: dict[str, Any] = asyncapi(settings).to_specification().to_jsonable()
    return jsonable
