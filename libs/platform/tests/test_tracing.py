"""Tracing: off by default, one provider per service, and context that survives Kafka headers."""

from __future__ import annotations

from bcrao_platform.tracing import (
    configure_tracing,
    context_from_headers,
    inject_headers,
    tracer,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracer


def test_tracing_is_off_without_an_endpoint_or_exporter() -> None:
    assert configure_tracing("svc", "1.0") is None
    assert isinstance(tracer(None, "x"), NoOpTracer)
    assert inject_headers([("a", b"1")]) == [("a", b"1")]  # no span: nothing to carry


def test_a_trace_crosses_kafka_headers_between_two_services() -> None:
    spans = InMemorySpanExporter()
    gateway = configure_tracing("api-gateway", "0.2.0", exporter=spans)
    generator = configure_tracing("generator", "0.2.0", exporter=spans)
    with tracer(gateway, "t").start_as_current_span("publish GenerateRequested"):
        headers = inject_headers([("content-type", b"application/json")])
    assert [name for name, _ in headers] == ["content-type", "traceparent"]
    parent_ctx = context_from_headers(headers)
    with tracer(generator, "t").start_as_current_span("generate", context=parent_ctx):
        pass
    publish, generate = spans.get_finished_spans()
    assert generate.context.trace_id == publish.context.trace_id
    assert generate.parent is not None
    assert generate.parent.span_id == publish.context.span_id
    assert publish.resource.attributes["service.name"] == "api-gateway"
    assert generate.resource.attributes["service.name"] == "generator"


def test_headers_without_context_start_a_new_trace() -> None:
    spans = InMemorySpanExporter()
    provider = configure_tracing("generator", "0.2.0", exporter=spans)
    with tracer(provider, "t").start_as_current_span("generate", context=context_from_headers([])):
        pass
    (span,) = spans.get_finished_spans()
    assert span.parent is None
