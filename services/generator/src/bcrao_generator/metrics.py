"""The generator's Prometheus metrics, on one registry per app (never the global default)."""

from __future__ import annotations

from collections.abc import Callable

from bcrao_contracts.events import DraftGenerated, GenerationFailed
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A generation is an LLM stream of seconds to minutes; time to first token is sub-second to tens.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300)
TTFT_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30)


class GeneratorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.generations = Counter(
            "bcrao_generator_generations",
            "Deliveries of GenerateRequested by how they ended (code: the failure code)",
            ["outcome", "code"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "bcrao_generator_in_flight", "Messages being handled right now", registry=registry
        )
        self.consumed = Counter(
            "bcrao_generator_events_consumed", "Records consumed", ["topic"], registry=registry
        )
        self.produced = Counter(
            "bcrao_generator_events_produced",
            "Records acknowledged by the broker",
            ["topic"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "bcrao_generator_dead_letters", "Records dead-lettered", ["reason"], registry=registry
        )
        self.handler_seconds = Histogram(
            "bcrao_generator_handler_duration_seconds",
            "From receiving a GenerateRequested to its terminal event acknowledged",
            ["outcome"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.ttft = Histogram(
            "bcrao_generator_llm_time_to_first_token_seconds",
            "From the LLM call to its first text",
            ["model"],
            buckets=TTFT_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "bcrao_generator_llm_tokens",
            "LLM tokens of stored drafts",
            ["model", "kind"],
            registry=registry,
        )
        self.cost = Counter(
            "bcrao_generator_llm_cost_usd",
            "LLM cost of generated drafts",
            ["model"],
            registry=registry,
        )

    def track_in_flight(self, read: Callable[[], int]) -> None:
        self.in_flight.set_function(lambda: float(read()))

    def outcome(self, event: DraftGenerated | GenerationFailed, seconds: float) -> None:
        if isinstance(event, DraftGenerated):
            draft = event.draft
            self.generations.labels("generated", "").inc()
            self.handler_seconds.labels("generated").observe(seconds)
            params = draft.generation_params
            for kind, tokens in (
                ("prompt", params.prompt_tokens),
                ("completion", params.completion_tokens),
            ):
                if tokens:
                    self.tokens.labels(draft.model_used, kind).inc(tokens)
            if draft.cost_usd:
                self.cost.labels(draft.model_used).inc(draft.cost_usd)
        else:
            self.generations.labels("failed", event.code.value).inc()
            self.handler_seconds.labels("failed").observe(seconds)

    def skipped(self, status: str) -> None:
        self.generations.labels("skipped", status).inc()
