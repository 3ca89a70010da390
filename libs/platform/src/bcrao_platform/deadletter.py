"""Dead letters: one header schema for every consumer, and records that always fit the broker.

A message that cannot be parsed, breaks its schema or keeps failing is copied to `<topic>.dlq`
with these headers, and the consumer moves on. The copy carries the original payload when it
fits under `max_bytes`; otherwise (a poison message close to or over the broker's 1 MiB limit
would make the copy itself fail, and the consumer would retry it forever) it carries a small
JSON reference to where the original still is: topic, partition, offset.

Attempts are counted in process memory (`AttemptTracker`): after a restart a message gets a
fresh count, which is bounded too — a poison message costs at most N attempts per process life.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

HEADER_REASON = "x-dlq-reason"
HEADER_ERROR = "x-dlq-error"
HEADER_TOPIC = "x-dlq-original-topic"
HEADER_PARTITION = "x-dlq-original-partition"
HEADER_OFFSET = "x-dlq-original-offset"
HEADER_ATTEMPTS = "x-dlq-attempts"
HEADER_CONSUMER = "x-dlq-consumer"
HEADER_PAYLOAD = "x-dlq-payload"  # "inline" or "reference"

# Kafka's default max.message.bytes is 1 MiB for the whole batch; leave room for key, headers
# and the record overhead.
DEFAULT_MAX_BYTES = 900_000
ERROR_MAX_CHARS = 1000

# Reasons, so operators can filter: unreadable (not JSON / not the schema), unsupported
# (an event type or schema version this consumer does not know), unprocessable (well-formed but
# can never be applied), exhausted (failed max_attempts times).
REASONS = ("unreadable", "unsupported", "unprocessable", "exhausted")
LOG_ERROR_MAX_CHARS = 300

log = logging.getLogger("bcrao_platform.deadletter")


class ConsumedRecord(Protocol):
    """What a dead letter needs of a consumed record (aiokafka's ConsumerRecord has it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def header_map(self) -> dict[str, str]:
        return {name: value.decode() for name, value in self.headers}


def dead_letter_record(
    value: bytes | None,
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    reason: str,
    error: BaseException | str,
    attempts: int,
    consumer: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DeadLetter:
    payload = value or b""
    inline = len(payload) + len(key or b"") <= max_bytes
    if not inline:
        where = {"topic": topic, "partition": partition, "offset": offset}
        payload = json.dumps({"ref": where, "size": len(value or b"")}).encode()
        key = key[:256] if key else key
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    headers = [
        (HEADER_REASON, reason),
        (HEADER_ERROR, message[:ERROR_MAX_CHARS]),
        (HEADER_TOPIC, topic),
        (HEADER_PARTITION, str(partition)),
        (HEADER_OFFSET, str(offset)),
        (HEADER_ATTEMPTS, str(attempts)),
        (HEADER_CONSUMER, consumer),
        (HEADER_PAYLOAD, "inline" if inline else "reference"),
    ]
    return DeadLetter(key, payload, [(name, text.encode()) for name, text in headers])


def dead_letter_for(
    record: ConsumedRecord | Any,
    *,
    reason: str,
    error: BaseException | str,
    attempts: int,
    consumer: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    logger: logging.Logger = log,
    level: int = logging.WARNING,
) -> DeadLetter:
    """The dead letter of a consumed record, logged once: the one way every consumer builds it.

    `record` is an aiokafka ConsumerRecord, or a FastStream KafkaMessage (its `raw_message` is
    the ConsumerRecord). The log line names where the original is and a short form of the error;
    its template is fixed, so bcrao_platform.logs' rate limit holds it down in a flood.
    """
    raw: ConsumedRecord = getattr(record, "raw_message", record)
    letter = dead_letter_record(
        raw.value,
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=raw.key,
        reason=reason,
        error=error,
        attempts=attempts,
        consumer=consumer,
        max_bytes=max_bytes,
    )
    logger.log(
        level,
        "dead-lettered %s/%d@%d (%s, %d attempts): %s",
        raw.topic,
        raw.partition,
        raw.offset,
        reason,
        attempts,
        _short(error),
    )
    return letter


def _short(error: BaseException | str) -> str:
    text = error if isinstance(error, str) else (str(error) or type(error).__name__)
    lines = text.splitlines()
    return (lines[0] if lines else "")[:LOG_ERROR_MAX_CHARS]


class AttemptTracker:
    """Failed attempts per (topic, partition, offset), bounded in size (oldest forgotten first)."""

    def __init__(self, max_attempts: int, *, capacity: int = 100_000) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self._capacity = capacity
        self._failures: OrderedDict[tuple[str, int, int], int] = OrderedDict()

    def record_failure(self, topic: str, partition: int, offset: int) -> int:
        key = (topic, partition, offset)
        count = self._failures.pop(key, 0) + 1
        self._failures[key] = count
        while len(self._failures) > self._capacity:
            self._failures.popitem(last=False)
        return count

    def attempts(self, topic: str, partition: int, offset: int) -> int:
        return self._failures.get((topic, partition, offset), 0)

    def exhausted(self, topic: str, partition: int, offset: int) -> bool:
        return self.attempts(topic, partition, offset) >= self.max_attempts

    def forget(self, topic: str, partition: int, offset: int) -> None:
        self._failures.pop((topic, partition, offset), None)
