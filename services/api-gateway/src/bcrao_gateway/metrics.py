"""The gateway's Prometheus metrics (prometheus_client, one registry per app).

Counted where they happen: generate outcomes (refusals by error code as a label: RATE_LIMITED,
PLAN_LIMIT_REACHED, ...) and publish failures. Read at scrape time from the live objects, so the
hot paths pay nothing: open streams, dropped clients and buffered tasks (the hub), events
consumed per topic, restarts and health (the stream reader), broker reachability, producer
replacements and dead letters (the publisher). HTTP rate and latency by route template and
status come from bcrao_platform's middleware on the same registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

SERVICE = "api-gateway"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.generate_accepted = Counter(
            "gateway_generate_accepted",
            "Generate/regenerate requests answered 202",
            registry=self.registry,
        )
        self.generate_replayed = Counter(
            "gateway_generate_replayed",
            "Of those, the ones whose Idempotency-Key found the task it opened before",
            registry=self.registry,
        )
        self.generate_refused = Counter(
            "gateway_generate_refused",
            "Generate/regenerate requests refused, by error code (quota and rate refusals too)",
            ["code"],
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "gateway_publish_failures",
            "GenerateRequested events Kafka did not acknowledge",
            registry=self.registry,
        )

    def watch(self, state: Any) -> None:
        """Report what `state` (the app's state: hub, stream_reader, publisher) holds at scrape."""
        self.registry.register(_LiveCollector(state))


class _LiveCollector(Collector):
    def __init__(self, state: Any) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        hub = getattr(self._state, "hub", None)
        if hub is not None:
            yield from _hub_metrics(hub.metrics())
        reader = getattr(self._state, "stream_reader", None)
        if reader is not None:
            consumed = CounterMetricFamily(
                "gateway_stream_events_consumed",
                "Records the stream reader consumed, by topic",
                labels=["topic"],
            )
            for topic, count in sorted(reader.consumed.items()):
                consumed.add_metric([topic], count)
            yield consumed
            yield CounterMetricFamily(
                "gateway_stream_unparsable",
                "Stream records that could not be parsed (dead-lettered when live)",
                value=reader.unparsable,
            )
            yield CounterMetricFamily(
                "gateway_stream_reader_restarts",
                "Times the stream reader's Kafka session ended and was started again",
                value=reader.restarts,
            )
            yield GaugeMetricFamily(
                "gateway_stream_reader_healthy",
                "1 when the stream reader is connected and caught up",
                value=int(reader.healthy),
            )
        publisher = getattr(self._state, "publisher", None)
        if publisher is not None:
            yield GaugeMetricFamily(
                "gateway_kafka_ready",
                "1 when the producer is started and the broker answers",
                value=int(bool(publisher.ready)),
            )
            if hasattr(publisher, "replacements"):
                yield CounterMetricFamily(
                    "gateway_producer_replacements",
                    "Producers replaced after a fatal error",
                    value=publisher.replacements,
                )
        writer = getattr(self._state, "dead_letters", None)
        if writer is not None:
            yield CounterMetricFamily(
                "gateway_dead_letters_written",
                "Stream records copied to a dead-letter topic",
                value=writer.written,
            )
            yield CounterMetricFamily(
                "gateway_dead_letters_dropped",
                "Dead letters that could not be written",
                value=writer.dropped,
            )


_HUB_GAUGES = {
    "open_streams": "SSE streams open now",
    "tasks_buffered": "Tasks whose frames are buffered",
    "tasks_running": "Buffered tasks without a terminal event yet",
    "frames_buffered": "SSE frames buffered over all tasks",
}
_HUB_COUNTERS = {
    "dropped_slow_clients": "Streams dropped because their client fell behind or stalled",
    "events_ingested": "Events the hub buffered",
    "events_ignored": "Events the hub ignored (duplicates, late)",
    "tasks_evicted": "Tasks evicted from the buffer",
}


def _hub_metrics(values: dict[str, int]) -> Iterator[Metric]:
    for name, doc in _HUB_GAUGES.items():
        if name in values:
            yield GaugeMetricFamily(f"gateway_stream_{name}", doc, value=values[name])
    for name, doc in _HUB_COUNTERS.items():
        if name in values:
            yield CounterMetricFamily(f"gateway_stream_{name}", doc, value=values[name])
