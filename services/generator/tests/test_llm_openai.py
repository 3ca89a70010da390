"""OpenAILLM against a local server that speaks the real chat-completions streaming protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from bcrao_generator.config import Settings
from bcrao_generator.llm import LLMRequest, LLMUnavailable
from bcrao_generator.llm_openai import OpenAILLM
from bcrao_testkit import fake_openai
from bcrao_testkit.servers import serve


@dataclass(frozen=True)
class _Prompt:
    def messages(self) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": "You are a long-time member of r/SaaS."},
            {"role": "user", "content": "Topic: chasing late invoices"},
        ]


CALL = LLMRequest(prompt=_Prompt(), seed="task-1", request=None, decision=None)  # type: ignore[arg-type]


@pytest.fixture
async def endpoint() -> AsyncIterator[str]:
    async with serve(fake_openai.create_app(retry_after="1")) as url:
        yield url


async def _script(url: str, *behaviours: str) -> None:
    async with httpx.AsyncClient() as client:
        (
            await client.post(f"{url}/_script", json={"behaviours": list(behaviours)})
        ).raise_for_status()


async def _received(url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{url}/_requests")).json()["requests"]


class Waits:
    """Records the waits between attempts instead of sleeping them (no clock in tests)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def _llm(url: str, waits: Waits | None = None, **overrides: Any) -> OpenAILLM:
    values: dict[str, Any] = {
        "llm_api_key": fake_openai.API_KEY,
        "llm_base_url": f"{url}/v1",
        "llm_model": "primary-model",
        "llm_fallback_model": "fallback-model",
        "llm_attempts": 2,
        "llm_backoff_base": 0.01,
        "llm_backoff_cap": 0.05,
        "llm_prices": {"primary-model": (1.0, 2.0), "fallback-model": (3.0, 6.0)},
    }
    settings = Settings(**{**values, **overrides})
    return OpenAILLM(settings, sleep=waits) if waits else OpenAILLM(settings)


class Recorder:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.restarts: list[str] = []

    async def on_text(self, piece: str) -> None:
        self.text.append(piece)

    async def on_restart(self, reason: str) -> None:
        self.restarts.append(reason)


async def _complete(llm: OpenAILLM, rec: Recorder) -> Any:
    try:
        return await llm.complete(CALL, on_text=rec.on_text, on_restart=rec.on_restart)
    finally:
        await llm.aclose()


async def test_streams_text_usage_and_cost_with_documented_defaults(endpoint: str) -> None:
    rec = Recorder()
    result = await _complete(_llm(endpoint), rec)
    assert result.model == "primary-model"
    assert result.text.startswith("Title: ")
    assert "".join(rec.text) == result.text
    assert len(rec.text) > 5
    assert result.prompt_tokens == 412
    assert result.completion_tokens == len(result.text) // 4
    assert result.cost_usd == pytest.approx((412 * 1.0 + result.completion_tokens * 2.0) / 1e6)
    [sent] = await _received(endpoint)
    assert sent["stream"] is True
    assert sent["temperature"] == 0.85
    assert sent["frequency_penalty"] == 0.3
    assert sent["presence_penalty"] == 0.2
    assert sent["max_tokens"] == 2000
    assert sent["messages"][0]["role"] == "system"


async def test_429_waits_for_retry_after_then_succeeds(endpoint: str) -> None:
    await _script(endpoint, "429")
    rec = Recorder()
    waits = Waits()
    result = await _complete(_llm(endpoint, waits), rec)
    assert waits.seconds == [1.0]  # the server's Retry-After: 1, not the 0.01 s backoff
    assert result.model == "primary-model"
    assert result.attempts == 2
    assert len(rec.restarts) == 1
    assert "429" in rec.restarts[0]


async def test_500_then_success(endpoint: str) -> None:
    await _script(endpoint, "500")
    result = await _complete(_llm(endpoint), Recorder())
    assert result.attempts == 2
    assert result.model == "primary-model"


async def test_primary_exhausted_falls_back_to_second_model(endpoint: str) -> None:
    await _script(endpoint, "500", "500")
    result = await _complete(_llm(endpoint), Recorder())
    assert result.model == "fallback-model"
    assert [r["model"] for r in await _received(endpoint)] == [
        "primary-model",
        "primary-model",
        "fallback-model",
    ]


async def test_permanent_failure_is_llm_unavailable(endpoint: str) -> None:
    await _script(endpoint, "500", "500", "500", "500")
    with pytest.raises(LLMUnavailable) as caught:
        await _complete(_llm(endpoint), Recorder())
    assert caught.value.retryable is True
    assert len(await _received(endpoint)) == 4


async def test_stream_cut_midway_is_retried_and_never_returned(endpoint: str) -> None:
    await _script(endpoint, "cut", "cut", "cut", "cut")
    rec = Recorder()
    with pytest.raises(LLMUnavailable, match="stream cut"):
        await _complete(_llm(endpoint), rec)
    assert rec.text  # text was streamed before the cut...
    assert len(rec.restarts) == 3  # ...and every retry told the client to start over


async def test_cut_then_complete_returns_only_the_complete_text(endpoint: str) -> None:
    await _script(endpoint, "cut")
    rec = Recorder()
    result = await _complete(_llm(endpoint), rec)
    assert result.text.endswith("lands?")
    assert result.attempts == 2


async def test_silent_stream_times_out(endpoint: str) -> None:
    await _script(endpoint, "hang", "hang", "hang", "hang")
    llm = _llm(endpoint, llm_read_timeout=0.3, llm_attempt_timeout=0.5, llm_attempts=1)
    with pytest.raises(LLMUnavailable, match="Timeout"):
        await _complete(llm, Recorder())
    # One attempt per model (primary, then fallback), each given up on: nothing hangs forever.
    assert [r["model"] for r in await _received(endpoint)] == ["primary-model", "fallback-model"]


async def test_bad_credentials_are_not_retried(endpoint: str) -> None:
    with pytest.raises(LLMUnavailable) as caught:
        await _complete(_llm(endpoint, llm_api_key="sk-wrong"), Recorder())
    assert caught.value.retryable is False
    assert "sk-wrong" not in str(caught.value)


def test_chat_stream_reads_events_as_the_sse_format_defines_them() -> None:
    from bcrao_generator.llm_openai import ChatStream

    def chunk(**fields: Any) -> str:
        return json.dumps(fields)

    stream = ChatStream()
    lines = [
        ": keep-alive comment",
        "data: " + chunk(choices=[{"delta": {"role": "assistant"}}]),
        "",
        "data:" + chunk(choices=[{"delta": {"content": "Hello"}}]),  # no space after the colon
        "",
        "event: message",
        'data: {"choices": [{"delta": {"content": " world"},',  # one event, two data lines
        'data: "finish_reason": "stop"}]}',
        "",
        "",  # blank lines between events are nothing
        "data: " + chunk(choices=[], usage={"prompt_tokens": 7, "completion_tokens": 3}),
        "",
        "data: [DONE]",
        "",
    ]
    pieces = [piece for line in lines for piece in stream.feed(line)]
    assert pieces == ["Hello", " world"]
    assert (stream.finish_reason, stream.prompt_tokens, stream.completion_tokens) == ("stop", 7, 3)
    assert stream.done
    assert stream.error is None

    failing = ChatStream()
    for line in ["data: " + chunk(error={"message": "overloaded"}), ""]:
        assert failing.feed(line) == []
    assert failing.error == "overloaded"
    assert failing.finish_reason is None
