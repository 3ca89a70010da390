"""Dead letters of the stream reader, written through the gateway's own producer.

A live record on a stream topic that cannot be parsed is copied to `<topic>.dlq` with
bcrao_platform's header schema. Every gateway instance reads every partition, so each instance
dead-letters what it cannot parse: the copies are told apart by x-dlq-consumer and deduplicated
by their original topic/partition/offset headers. Writing never blocks the reader, and is
bounded: in a flood (during an outage, say) copies are dropped with a log line — the originals
stay on their topic, the DLQ copy is a convenience for operators.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import ConsumerRecord
from bcrao_contracts.topics import dlq
from bcrao_platform.deadletter import DeadLetter, dead_letter_for

from bcrao_gateway.publisher import KafkaPublisher

log = logging.getLogger("bcrao_gateway.deadletters")

MAX_PENDING = 100
CONSUMER = "api-gateway/stream-reader"


class DeadLetterWriter:
    def __init__(self, publisher: KafkaPublisher, timeout_seconds: float) -> None:
        self._publisher = publisher
        self._timeout = timeout_seconds
        self._pending: set[asyncio.Task[None]] = set()
        self.written = 0
        self.dropped = 0

    def __call__(self, record: ConsumerRecord[Any, Any], reason: str, error: str) -> None:
        letter = dead_letter_for(
            record,
            reason=reason,
            error=error,
            attempts=1,  # parsing is deterministic: a second try would fail the same way
            consumer=CONSUMER,
            logger=log,
        )
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            log.warning("too many dead letters in flight; not copying from %s", record.topic)
            return
        task = asyncio.create_task(self._send(dlq(record.topic), letter))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, topic: str, letter: DeadLetter) -> None:
        producer = self._publisher.producer
        try:
            if producer is None:
                raise RuntimeError("the Kafka producer is not started")
            async with asyncio.timeout(self._timeout):
                await producer.send_and_wait(
                    topic, letter.value, key=letter.key, headers=letter.headers
                )
        except Exception as exc:
            self.dropped += 1
            log.warning("dead letter to %s not written: %r", topic, exc)
            return
        self.written += 1

    async def drain(self) -> None:
        """Wait for the copies being written (shutdown, before the producer stops)."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=self._timeout)
