"""Retrying: broker trouble never spends a record's attempts; a failing dead letter is retried
until stored; other failures dead-letter after max_attempts."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from bcrao_generator.retries import Poison, Retrying, is_transient


def record(offset: int = 7) -> Any:
    return ConsumerRecord(
        topic="t", partition=1, offset=offset, timestamp=0, timestamp_type=0,
        key=b"k", value=b"v", checksum=None, serialized_key_size=1,
        serialized_value_size=1, headers=(),
    )  # fmt: skip


def test_only_retriable_broker_errors_are_transient() -> None:
    assert is_transient(KafkaConnectionError())
    assert not is_transient(MessageSizeTooLargeError())  # the broker will never take it
    assert not is_transient(ValueError())


async def test_broker_trouble_is_retried_without_spending_attempts() -> None:
    failures = iter([KafkaConnectionError()] * 6)
    dead: list[Any] = []

    async def handle(r: Any) -> None:
        if (exc := next(failures, None)) is not None:
            raise exc

    async def dead_letter(*args: Any) -> None:
        dead.append(args)

    await Retrying(handle, dead_letter, max_attempts=2, base=0, cap=0)(record())
    assert dead == []
    assert next(failures, None) is None  # all six transient failures were retried through


async def test_failures_dead_letter_after_max_attempts_and_the_dlq_is_retried() -> None:
    calls = 0
    stored: list[tuple[str, int]] = []
    dlq_down = iter([True, True])

    async def handle(r: Any) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("bug")

    async def dead_letter(r: Any, reason: str, exc: BaseException, attempts: int) -> None:
        if next(dlq_down, False):
            raise KafkaConnectionError()
        stored.append((reason, attempts))

    await Retrying(handle, dead_letter, max_attempts=3, base=0, cap=0)(record())
    assert calls == 3
    assert stored == [("exhausted", 3)]


async def test_poison_is_dead_lettered_at_once() -> None:
    stored: list[tuple[str, int]] = []

    async def handle(r: Any) -> None:
        raise Poison("unsupported", "v2")

    async def dead_letter(r: Any, reason: str, exc: BaseException, attempts: int) -> None:
        stored.append((reason, attempts))

    await Retrying(handle, dead_letter, max_attempts=5, base=0, cap=0)(record())
    assert stored == [("unsupported", 1)]
