"""Publishing many events with one wait: hand them all to the producer, then await the acks."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence

from bcrao_contracts.events import Event
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import DefaultPublisher

JSON_HEADERS = {"content-type": "application/json"}


async def publish_all(
    target: KafkaBroker | DefaultPublisher,
    topic: str | None,
    events: Sequence[Event],
    extra_headers: Sequence[dict[str, str]] | None = None,
) -> None:
    """acks=all for every event, awaited together: the producer batches them by partition
    instead of one round trip per event. Raises if any of them was not acknowledged.
    `extra_headers[i]` (the trace context, say) goes with `events[i]`."""
    pending = []
    for index, event in enumerate(events):
        headers = {**JSON_HEADERS, **extra_headers[index]} if extra_headers else JSON_HEADERS
        if isinstance(target, KafkaBroker):
            assert topic is not None, "a broker publishes to a named topic"
            sent = await target.publish(
                event.to_json(), topic, key=event.key, headers=headers, no_confirm=True
            )
        else:
            sent = await target.publish(
                event.to_json(), key=event.key, headers=headers, no_confirm=True
            )
        if inspect.isawaitable(sent):  # the in-memory test broker delivers at once
            pending.append(sent)
    await asyncio.gather(*pending)
