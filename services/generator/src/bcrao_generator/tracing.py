"""Spans of one generation: the record's processing (a child of the producer's trace, from its
Kafka headers), the task claim, the LLM call; the outgoing events carry the trace onward.

Tracing is off unless GENERATOR_OTLP_ENDPOINT is set (or a test passes a provider); the tracer
is then OpenTelemetry's no-op one and these spans cost next to nothing.
"""

from __future__ import annotations

from bcrao_platform.tracing import inject_headers
from opentelemetry import trace

from .llm import LLM, LLMRequest, LLMResult, OnRestart, OnText


def trace_headers() -> dict[str, str]:
    """The current span's W3C trace context, as FastStream's str headers."""
    return {name: value.decode("latin-1") for name, value in inject_headers()}


class TracedLLM:
    """The LLM port with one CLIENT span per call (retries and fallback model inside it)."""

    def __init__(self, inner: LLM, tracer: trace.Tracer) -> None:
        self._inner = inner
        self._tracer = tracer
        self.name = inner.name

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        with self._tracer.start_as_current_span(
            "llm complete",
            kind=trace.SpanKind.CLIENT,
            attributes={"gen_ai.request.model": self.name, "bcrao.task_id": call.seed},
        ) as span:
            result = await self._inner.complete(call, on_text=on_text, on_restart=on_restart)
            span.set_attributes(
                {
                    "gen_ai.response.model": result.model,
                    "gen_ai.usage.input_tokens": result.prompt_tokens,
                    "gen_ai.usage.output_tokens": result.completion_tokens,
                    "bcrao.llm.attempts": result.attempts,
                }
            )
            return result

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()
