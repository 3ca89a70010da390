"""OpenTelemetry set-up shared by the three services, and trace context in Kafka headers.

Tracing is off unless an OTLP endpoint (or, in tests, an exporter) is given: then each service
gets its own `TracerProvider` naming the service and version, which the caller hands to the
instrumentations (FastAPI through `instrument_app`, httpx, aiokafka) and to its own spans.
A provider is passed around rather than installed globally, so several services can run in one
test process, each with its resource, all writing to one in-memory exporter.

Kafka headers carry W3C `traceparent`/`tracestate`, the format FastStream's telemetry middleware
and the aiokafka instrumentation also use, so a trace crosses every hop whichever client wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

KafkaHeaders = Sequence[tuple[str, bytes]]
_PROPAGATOR = TraceContextTextMapPropagator()
# Not traced: probes and scrapes would drown the traces that matter.
PROBE_PATHS = "/healthz,/readyz,/metrics"


def configure_tracing(
    service: str,
    version: str,
    *,
    otlp_endpoint: str | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """A provider exporting to `exporter` (synchronously, for tests) or to the OTLP endpoint
    (batched); None when neither is set, and the instrumentations are then not installed."""
    if exporter is None and not otlp_endpoint:
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.version": version})
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def instrument_app(app: Any, provider: TracerProvider) -> None:
    """Server spans for a FastAPI app's requests, but not for the probes and the scrape; one span
    per request, not one per ASGI message (an SSE stream sends thousands). The instrumentation is
    imported here, when tracing is on: importing it costs a service a third of a CPU-second at
    every start, which a deployment without tracing should not pay."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=PROBE_PATHS, exclude_spans=["receive", "send"]
    )


def tracer(provider: TracerProvider | None, name: str) -> trace.Tracer:
    """The provider's tracer, or OpenTelemetry's no-op one when tracing is off."""
    if provider is None:
        return trace.NoOpTracer()
    return provider.get_tracer(name)


class _HeaderGetter(Getter[KafkaHeaders]):
    def get(self, carrier: KafkaHeaders, key: str) -> list[str] | None:
        found = [value.decode("latin-1") for name, value in carrier or () if name == key]
        return found or None

    def keys(self, carrier: KafkaHeaders) -> list[str]:
        return [name for name, _ in carrier or ()]


class _HeaderSetter(Setter[list[tuple[str, bytes]]]):
    def set(self, carrier: list[tuple[str, bytes]], key: str, value: str) -> None:
        carrier[:] = [(name, v) for name, v in carrier if name != key]
        carrier.append((key, value.encode("latin-1")))


def inject_headers(headers: Iterable[tuple[str, bytes]] = ()) -> list[tuple[str, bytes]]:
    """`headers` plus the current span's trace context (unchanged when no span is active)."""
    carrier = list(headers)
    _PROPAGATOR.inject(carrier, setter=_HeaderSetter())
    return carrier


def context_from_headers(headers: KafkaHeaders | None) -> otel_context.Context:
    """The trace context a producer put in the record's headers (empty when there is none)."""
    return _PROPAGATOR.extract(headers or [], getter=_HeaderGetter())
