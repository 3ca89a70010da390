"""on_generate_requested without a broker: broker trouble is retried, a crash ends the task."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from bcrao_contracts.events import DraftGenerated, Event, GenerationFailed
from bcrao_generator.config import Settings
from bcrao_generator.handlers import Generator, on_generate_requested
from bcrao_generator.llm import LLMRequest, LLMResult, OfflineComposer, OnRestart, OnText
from bcrao_generator.metrics import GeneratorMetrics
from prometheus_client import CollectorRegistry

from .factories import request


class RecordingPublishers:
    """Publishers' two calls; `down` makes progress sends fail like a broker outage."""

    def __init__(self, *, down: bool = False, lose: frozenset[int] = frozenset()) -> None:
        self.sent: list[Event] = []
        self.published: list[Event] = []
        self.down = down
        self.lose = lose  # seqs whose acknowledgement fails (the broker went away meanwhile)

    async def send(self, event: Event) -> asyncio.Future[Any]:
        if self.down:
            raise KafkaConnectionError("broker away")
        self.sent.append(event)
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if getattr(event, "seq", None) in self.lose:
            ack.set_exception(KafkaConnectionError("lost"))
        else:
            ack.set_result(None)
        return ack

    async def publish(self, event: Event) -> None:
        self.published.append(event)


class CrashingLLM:
    name = "crashing"

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        raise RuntimeError("a bug")


def generator(publishers: RecordingPublishers, llm: Any) -> Generator:
    metrics = GeneratorMetrics(CollectorRegistry())
    return Generator(Settings(chunk_interval_ms=0), llm, publishers, metrics)  # type: ignore[arg-type]


async def test_progress_first_then_one_terminal_event() -> None:
    publishers = RecordingPublishers()
    await on_generate_requested(request(), generator(publishers, OfflineComposer(chunk_delay_ms=0)))
    [terminal] = publishers.published
    assert isinstance(terminal, DraftGenerated)
    assert [e.seq for e in publishers.sent] == list(range(1, terminal.seq))


async def test_broker_trouble_propagates_for_a_retry_instead_of_failing_the_task() -> None:
    publishers = RecordingPublishers(down=True)
    with pytest.raises(KafkaConnectionError):
        await on_generate_requested(
            request(), generator(publishers, OfflineComposer(chunk_delay_ms=0))
        )
    assert publishers.published == []


async def test_a_crash_ends_the_task_with_a_retryable_failure() -> None:
    publishers = RecordingPublishers()
    await on_generate_requested(request(), generator(publishers, CrashingLLM()))
    [terminal] = publishers.published
    assert isinstance(terminal, GenerationFailed)
    assert terminal.code.value == "GENERATION_FAILED"
    assert terminal.retryable
    assert terminal.seq == publishers.sent[-1].seq + 1


async def test_progress_the_broker_lost_is_sent_again_in_order_before_the_terminal() -> None:
    publishers = RecordingPublishers(lose=frozenset({2, 3}))
    await on_generate_requested(request(), generator(publishers, OfflineComposer(chunk_delay_ms=0)))
    assert [e.seq for e in publishers.published[:-1]] == [2, 3]
    assert isinstance(publishers.published[-1], DraftGenerated)
