"""The generator's Kafka side against the real broker: events out, dead letters, hundreds of
generations at once on one instance, and the task claim."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import TopicPartition
from bcrao_contracts.enums import Archetype
from bcrao_contracts.events import DraftGenerated, GenerationFailed, ProgressUpdated, parse_event
from bcrao_contracts.topics import Topics, dlq
from bcrao_generator.config import Settings
from bcrao_generator.llm import LLM, OfflineComposer
from bcrao_generator.service import GeneratorService
from bcrao_testkit.kafka_faults import break_sequences
from bcrao_testkit.servers import serve
from bcrao_testkit.waits import eventually
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from .factories import request
from .fakes import TOKEN, GatedLLM, claim_app
from .kafka_helpers import collect, committed, create_generator_topics, prefix, produce

pytestmark = pytest.mark.integration


def settings(bootstrap: str, topic_prefix: str, **kw: Any) -> Settings:
    return Settings(
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=topic_prefix,
        group_id=f"gen-{secrets.token_hex(4)}",
        shutdown_grace_seconds=5,
        chunk_interval_ms=0,
        **kw,
    )


@asynccontextmanager
async def running(s: Settings, llm: LLM) -> AsyncIterator[GeneratorService]:
    service = GeneratorService(s, llm, CollectorRegistry())
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def task(n: int, **kw: Any) -> Any:
    return request(context=f"late invoices {n}", **kw).model_copy(update={"task_id": UUID(int=n)})


def terminals(records: list[Any]) -> list[Any]:
    return [parse_event(r.value) for r in records]


async def test_events_out_and_unreadable_records_dead_lettered(kafka_bootstrap: str) -> None:
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=4)
    ok = task(1)
    gated = task(2, subreddit="selfhosted", archetype=Archetype.JOURNEY)
    v2 = ok.model_dump(mode="json") | {"schema_version": 2}
    await produce(
        kafka_bootstrap,
        topics.generate_requested,
        [(b"x", b"{not json", None), (b"y", json.dumps(v2).encode(), None)]
        + [(e.key, e.to_json(), None) for e in (ok, gated)],
    )
    async with running(settings(kafka_bootstrap, p), OfflineComposer(chunk_delay_ms=0)):
        out = await collect(
            kafka_bootstrap, [topics.generated, topics.failed], until=lambda r: len(r) >= 2
        )
        dead = await collect(
            kafka_bootstrap, [dlq(topics.generate_requested)], until=lambda r: len(r) >= 2
        )
        progress = await collect(
            kafka_bootstrap,
            [topics.progress],
            until=lambda r: (
                {parse_event(x.value).task_id for x in r} == {ok.task_id, gated.task_id}
            ),
        )

    outcomes = {e.task_id: e for e in terminals(out)}
    assert isinstance(outcomes[ok.task_id], DraftGenerated)
    failed = outcomes[gated.task_id]
    assert isinstance(failed, GenerationFailed)
    assert failed.code.value == "ISC_ARCHETYPE_BLOCKED"
    assert all(r.key == str(parse_event(r.value).task_id).encode() for r in out)
    letters = {r.value: {k: v.decode() for k, v in r.headers} for r in dead}
    assert letters[b"{not json"]["x-dlq-reason"] == "unreadable"
    assert letters[json.dumps(v2).encode()]["x-dlq-reason"] == "unsupported"
    for headers in letters.values():
        assert headers["x-dlq-original-topic"] == topics.generate_requested
        assert headers["x-dlq-attempts"] == "1"
        assert headers["x-dlq-payload"] == "inline"
    # One task's progress is in one partition, in seq order, before its terminal event.
    seqs = [e.seq for e in terminals(progress) if e.task_id == ok.task_id]
    assert seqs == list(range(1, len(seqs) + 1))
    assert outcomes[ok.task_id].seq == len(seqs) + 1
    assert all(isinstance(e, ProgressUpdated) for e in terminals(progress))


async def test_two_hundred_generations_at_once_on_one_instance(kafka_bootstrap: str) -> None:
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=24)
    tasks = [task(n) for n in range(1, 201)]
    await produce(
        kafka_bootstrap, topics.generate_requested, [(t.key, t.to_json(), None) for t in tasks]
    )
    llm = GatedLLM(target=200)
    async with running(settings(kafka_bootstrap, p, concurrency=256), llm) as service:
        await eventually(lambda: _set(llm))
        assert service.consumer.in_flight == 200
        llm.release.set()
        out = await collect(
            kafka_bootstrap, [topics.generated, topics.failed], until=lambda r: len(r) >= 200
        )
    assert llm.peak == 200
    assert sorted(e.task_id for e in terminals(out)) == sorted(t.task_id for t in tasks)
    assert set(llm.calls.values()) == {1}


async def _set(llm: GatedLLM) -> bool:
    return llm.reached.is_set()


async def test_a_claim_refused_means_no_llm_call_and_no_events(kafka_bootstrap: str) -> None:
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=1)
    done, deleted, queued = task(1), task(2), task(3)
    app, received = claim_app({done.task_id: "completed", queued.task_id: "queued"})
    llm = GatedLLM()
    llm.release.set()
    async with serve(app) as url:
        s = settings(kafka_bootstrap, p, draft_store_url=url, draft_store_token=SecretStr(TOKEN))
        # A redelivery of a finished task, a task of a deleted campaign, then a live one; all
        # in one partition, so the live one's commit means the other two were handled.
        await produce(
            kafka_bootstrap,
            topics.generate_requested,
            [(e.key, e.to_json(), 0) for e in (done, deleted, queued)],
        )
        async with running(s, llm):
            out = await collect(
                kafka_bootstrap, [topics.generated, topics.failed], until=lambda r: len(r) >= 1
            )

            async def all_committed() -> bool:
                tp = TopicPartition(topics.generate_requested, 0)
                return (await committed(kafka_bootstrap, s.group_id, [tp]))[0] == 3

            await eventually(all_committed)
        progress = await collect(kafka_bootstrap, [topics.progress], until=lambda r: len(r) >= 1)
    assert dict(llm.calls) == {queued.task_id: 1}
    assert [e.task_id for e in terminals(out)] == [queued.task_id]
    assert {e.task_id for e in terminals(progress)} == {queued.task_id}
    assert [r["task_id"] for r in received] == [done.task_id, deleted.task_id, queued.task_id]
    assert all(r["user_id"] == queued.user_id and UUID(r["attempt_id"]) for r in received)


async def test_a_second_copy_of_a_running_tasks_request_is_not_generated_again(
    kafka_bootstrap: str,
) -> None:
    """A client's retry with its Idempotency-Key makes the gateway send a queued task's
    GenerateRequested again (ADR 0010). When the second copy arrives while the first is at the
    LLM, the claim would let it through (a running task is claimed again, as for a redelivery
    after a crash); it is skipped before the claim instead: one LLM call, one outcome."""
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=1)
    first = task(7)
    copy = first.model_copy(update={"event_id": uuid4()})  # the gateway's second send
    app, received = claim_app({first.task_id: "queued"})
    llm = GatedLLM()
    registry = CollectorRegistry()
    async with serve(app) as url:
        s = settings(kafka_bootstrap, p, draft_store_url=url, draft_store_token=SecretStr(TOKEN))
        await produce(kafka_bootstrap, topics.generate_requested, [(first.key, first.to_json(), 0)])
        service = GeneratorService(s, llm, registry)
        await service.start()
        try:
            await eventually(lambda: _set(llm))  # the first copy is at the LLM
            await produce(
                kafka_bootstrap, topics.generate_requested, [(copy.key, copy.to_json(), 0)]
            )

            def skipped() -> bool:
                labels = {"outcome": "skipped", "code": "running_here"}
                return registry.get_sample_value("bcrao_generator_generations_total", labels) == 1

            await eventually(skipped)
            llm.release.set()
            out = await collect(
                kafka_bootstrap, [topics.generated, topics.failed], until=lambda r: len(r) >= 1
            )

            async def both_handled() -> bool:
                tp = TopicPartition(topics.generate_requested, 0)
                return (await committed(kafka_bootstrap, s.group_id, [tp]))[0] == 2

            await eventually(both_handled)
        finally:
            await service.stop()
    assert dict(llm.calls) == {first.task_id: 1}
    assert [e.task_id for e in terminals(out)] == [first.task_id]
    assert [r["task_id"] for r in received] == [first.task_id]


@pytest.mark.parametrize(
    "down_status",
    [
        pytest.param(503, id="draft-store-unavailable"),
        pytest.param(401, id="token-refused"),
        pytest.param(422, id="body-refused"),
    ],
)
async def test_a_claim_waits_for_draft_store_and_never_generates_unclaimed(
    kafka_bootstrap: str, down_status: int
) -> None:
    """While draft-store cannot answer a task's claim, or refuses it (a wrong token, a contract
    mismatch: fail closed, ADR 0006), that task waits (no LLM call: it may be a finished task's
    redelivery), and a task of another partition goes on meanwhile."""
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=2)
    done, waiting, other = task(1), task(2), task(3)
    statuses = {done.task_id: "completed", waiting.task_id: "queued", other.task_id: "queued"}
    down = {done.task_id, waiting.task_id}
    app, received = claim_app(statuses, unavailable=down, down_status=down_status)
    llm = GatedLLM()
    llm.release.set()
    async with serve(app) as url:
        s = settings(
            kafka_bootstrap,
            p,
            draft_store_url=url,
            draft_store_token=SecretStr(TOKEN),
            claim_retry_cap_seconds=0.2,
        )
        await produce(
            kafka_bootstrap,
            topics.generate_requested,
            [(e.key, e.to_json(), n) for e, n in ((done, 0), (waiting, 0), (other, 1))],
        )
        async with running(s, llm):
            first = await collect(
                kafka_bootstrap, [topics.generated, topics.failed], until=lambda r: len(r) >= 1
            )

            def asked(task_id: UUID, times: int) -> bool:
                return sum(r["task_id"] == task_id for r in received) >= times

            # Both waiting claims were retried, and neither got an LLM call meanwhile.
            await eventually(lambda: asked(done.task_id, 3) and asked(waiting.task_id, 3))
            assert dict(llm.calls) == {other.task_id: 1}
            down.clear()  # draft-store answers again
            out = await collect(
                kafka_bootstrap, [topics.generated, topics.failed], until=lambda r: len(r) >= 2
            )

            async def both_handled() -> bool:  # the finished task skipped, the other generated
                tp = TopicPartition(topics.generate_requested, 0)
                return (await committed(kafka_bootstrap, s.group_id, [tp]))[0] == 2

            await eventually(both_handled)
    assert [e.task_id for e in terminals(first)] == [other.task_id]
    assert sorted(e.task_id for e in terminals(out)) == sorted([other.task_id, waiting.task_id])
    assert dict(llm.calls) == {other.task_id: 1, waiting.task_id: 1}


async def test_a_producer_broken_by_a_broker_restart_is_replaced_without_generating_again(
    kafka_bootstrap: str,
) -> None:
    """OutOfOrderSequenceNumber (what a broker restart can leave an idempotent producer with)
    fails every later send of the partition: the producer is replaced and the task's events go
    out on the new one, gap-free, after one LLM call, never a rerun of the generation."""
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=1)
    first, second = task(1), task(2)
    llm = GatedLLM()
    llm.release.set()
    async with running(settings(kafka_bootstrap, p), llm) as service:
        await produce(kafka_bootstrap, topics.generate_requested, [(first.key, first.to_json(), 0)])
        await collect(kafka_bootstrap, [topics.generated], until=lambda r: len(r) >= 1)
        break_sequences(service.broker)
        await produce(
            kafka_bootstrap, topics.generate_requested, [(second.key, second.to_json(), 0)]
        )
        out = await collect(
            kafka_bootstrap, [topics.generated, topics.failed], until=lambda r: len(r) >= 2
        )
        end = terminals(out)[-1]

        def all_progress(records: list[Any]) -> bool:
            seqs = {e.seq for e in terminals(records) if e.task_id == second.task_id}
            return len(seqs) >= end.seq - 1

        progress = await collect(kafka_bootstrap, [topics.progress], until=all_progress)
    assert [(type(e), e.task_id) for e in terminals(out)] == [
        (DraftGenerated, first.task_id),
        (DraftGenerated, second.task_id),
    ]
    assert dict(llm.calls) == {first.task_id: 1, second.task_id: 1}
    seqs = {e.seq for e in terminals(progress) if e.task_id == second.task_id}
    assert seqs == set(range(1, end.seq))
