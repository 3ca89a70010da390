"""The service's Prometheus metrics, in a registry of its own (one per app, so tests can read
theirs). Served on /metrics by bcrao_platform.metrics, behind DRAFT_STORE_METRICS_TOKEN."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class CountUp:
    """A label-less counter that also supports `metrics.name += 1` (the routes' idiom)."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def inc(self, amount: float = 1) -> None:
        self.counter.inc(amount)

    def __iadd__(self, amount: float) -> CountUp:
        self.counter.inc(amount)
        return self


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry

        def count(name: str, doc: str) -> CountUp:
            return CountUp(Counter(name, doc, registry=r))

        self.drafts_stored = count(
            "draft_store_drafts_stored", "Drafts stored from DraftGenerated (first delivery)."
        )
        self.redeliveries_skipped = count(
            "draft_store_redeliveries_skipped",
            "DraftGenerated deliveries whose draft was already stored.",
        )
        self.generation_failures = count(
            "draft_store_generation_failures", "Tasks failed by GenerationFailed events."
        )
        self.handler_retries = count(
            "draft_store_handler_retries", "Transient database errors retried by a consumer."
        )
        self.tasks_opened = count(
            "draft_store_tasks_opened", "Generation tasks opened (quota unit reserved)."
        )
        self.tasks_replayed = count(
            "draft_store_tasks_replayed",
            "Task openings answered with the task their Idempotency-Key opened before.",
        )
        self.events_dropped = Counter(
            "draft_store_events_dropped",
            "Events acknowledged without effect: their task is tombstoned.",
            ["topic", "reason"],
            registry=r,
        )
        self.dead_letters = Counter(
            "draft_store_dead_letters",
            "Messages sent to a dead-letter topic.",
            ["topic", "reason"],
            registry=r,
        )
        self.batch_size = Histogram(
            "draft_store_batch_size",
            "Messages per consumed batch.",
            ["topic"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.quota_refusals = Counter(
            "draft_store_quota_refusals",
            "Task openings refused with PLAN_LIMIT_REACHED.",
            ["reason"],
            registry=r,
        )
        self.tasks_swept = Counter(
            "draft_store_tasks_swept",
            "Tasks failed by the sweeper, and failures of deleted campaigns' tasks announced.",
            ["reason"],
            registry=r,
        )

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when never observed): for tests and diagnostics."""
        return self.registry.get_sample_value(name, labels) or 0.0
