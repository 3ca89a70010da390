"""One generation is one trace: the producer's span → processing → claim, LLM call, terminal
publish; the events out carry the trace on (real broker, in-memory span exporter)."""

from __future__ import annotations

import pytest
from bcrao_contracts.topics import Topics
from bcrao_generator.llm import OfflineComposer
from bcrao_generator.service import GeneratorService
from bcrao_platform.tracing import configure_tracing, context_from_headers, inject_headers, tracer
from bcrao_testkit.servers import serve
from bcrao_testkit.waits import eventually
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from .fakes import TOKEN, claim_app
from .kafka_helpers import collect, create_generator_topics, prefix, produce
from .test_handlers import settings, task

pytestmark = pytest.mark.integration


async def test_one_generation_is_one_connected_trace(kafka_bootstrap: str) -> None:
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=1)
    spans = InMemorySpanExporter()
    gateway = configure_tracing("api-gateway", "test", exporter=spans)
    generator = configure_tracing("generator", "test", exporter=spans)
    t = task(1)
    app, _ = claim_app({t.task_id: "queued"})
    async with serve(app) as url:
        s = settings(kafka_bootstrap, p, draft_store_url=url, draft_store_token=SecretStr(TOKEN))
        with tracer(gateway, "test").start_as_current_span("POST /v1/generate") as root:
            headers = inject_headers()
        await produce(
            kafka_bootstrap,
            topics.generate_requested,
            [(t.key, t.to_json(), None)],
            headers=headers,
        )
        service = GeneratorService(
            s, OfflineComposer(chunk_delay_ms=0), CollectorRegistry(), generator
        )
        await service.start()
        try:
            out = await collect(kafka_bootstrap, [topics.generated], until=lambda r: len(r) >= 1)
            await eventually(lambda: _ended(spans, f"{topics.generate_requested} process"))
        finally:
            await service.stop()

    trace_id = root.get_span_context().trace_id
    finished = spans.get_finished_spans()
    assert {s.context.trace_id for s in finished} == {trace_id}
    by_name = {s.name: s for s in finished}
    process = by_name[f"{topics.generate_requested} process"]
    assert process.parent is not None
    assert process.parent.span_id == root.get_span_context().span_id
    assert process.kind == trace.SpanKind.CONSUMER
    children = sorted(
        (s for s in finished if s.parent and s.parent.span_id == process.context.span_id),
        key=lambda s: s.start_time or 0,
    )
    assert [s.name for s in children] == [
        "task claim",
        "llm complete",
        f"{topics.generated} publish",
    ]
    # draft-store continues the same trace from the DraftGenerated record's headers.
    carried = trace.get_current_span(context_from_headers(out[0].headers)).get_span_context()
    assert carried.trace_id == trace_id


async def _ended(spans: InMemorySpanExporter, name: str) -> bool:
    return any(s.name == name for s in spans.get_finished_spans())
