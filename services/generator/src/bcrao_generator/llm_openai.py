"""The LLM adapter for any OpenAI-compatible endpoint: streamed chat completions, the primary
model then the fallback.

Retries live here, not in the openai client (max_retries=0), because a retry has to honour
Retry-After and must also cover a stream that is cut after it started.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, cast

import httpx2
import openai
from bcrao_platform.retry import RetryCallState, retrying
from bcrao_platform.retry import last_error as last_failure
from openai.types.chat import ChatCompletionMessageParam

from .config import Settings
from .llm import LLMRequest, LLMResult, LLMUnavailable, OnRestart, OnText

log = logging.getLogger(__name__)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Refused(Exception):
    """This model will not serve the request; the fallback model may."""


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"attempt timed out after {timeout:g}s"
    return str(exc)


def _retry_after(response: Any) -> float | None:
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def cost_of(
    prices: dict[str, tuple[float, float]], model: str, prompt: int, completion: int
) -> float:
    per_in, per_out = prices.get(model, (0.0, 0.0))
    return round((prompt * per_in + completion * per_out) / 1_000_000, 6)


class ChatStream:
    """The server-sent events of a streamed chat completion, fed one line at a time.

    Events are `data:` lines ended by a blank line (several data lines join with a newline);
    `[DONE]` ends the stream; comments and other fields are ignored. Each event is a chunk whose
    choices carry text deltas and a finish reason; the last carries usage; an `error` object is
    the server giving up mid-stream.
    """

    def __init__(self) -> None:
        self._data: list[str] = []
        self.done = False
        self.finish_reason: str | None = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.error: str | None = None

    def feed(self, line: str) -> list[str]:
        """The text deltas of the event this line completes (none while an event is open)."""
        if line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
            return []
        if line or not self._data:
            return []  # a comment, another field, or a blank line between events
        data, self._data = "\n".join(self._data), []
        if data == "[DONE]":
            self.done = True
            return []
        return self._chunk(json.loads(data))

    def _chunk(self, chunk: Any) -> list[str]:
        if not isinstance(chunk, dict):
            return []
        if chunk.get("error"):
            error = chunk["error"]
            self.error = str(error.get("message", error) if isinstance(error, dict) else error)
            return []
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            self.completion_tokens = int(usage.get("completion_tokens") or 0)
        pieces: list[str] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str) and content:
                pieces.append(content)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        return pieces


class OpenAILLM:
    """Streams chat completions from an OpenAI-compatible endpoint, primary model then fallback."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: openai.AsyncOpenAI | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._s = settings
        self._sleep = sleep  # waits between attempts (tests record them instead of the clock)
        self._client = client or openai.AsyncOpenAI(
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none",
            base_url=settings.llm_base_url,
            max_retries=0,
            # aiohttp under openai's client (openai ships it): httpcore's pool and its per-read
            # cancel scopes cost a quarter of the CPU of a streamed completion.
            http_client=openai.DefaultAioHttpClient(),
            timeout=openai.Timeout(settings.llm_read_timeout, connect=settings.llm_connect_timeout),
        )
        self.name = settings.llm_model

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        models = [self._s.llm_model]
        if self._s.llm_fallback_model and self._s.llm_fallback_model != self._s.llm_model:
            models.append(self._s.llm_fallback_model)
        jitter = random.Random(call.seed)
        attempts = 0
        last_error = "no attempt made"

        def failed(exc: BaseException) -> None:
            nonlocal last_error
            last_error = _describe(exc, self._s.llm_attempt_timeout)

        def wait(state: RetryCallState) -> float:
            """Retry-After when the endpoint sent one (capped), else capped exponential
            backoff with the task's own seeded jitter."""
            retry_after = getattr(last_failure(state), "retry_after", None)
            if retry_after is not None:
                return float(min(retry_after, self._s.llm_retry_after_cap))
            attempt = state.attempt_number
            backoff = min(self._s.llm_backoff_cap, self._s.llm_backoff_base * 2 ** (attempt - 1))
            return float(backoff * (0.5 + jitter.random() / 2))

        for model in models:
            try:
                async for attempt in retrying(
                    self._s.llm_attempts,
                    self._s.llm_backoff_base,
                    self._s.llm_backoff_cap,
                    lambda exc: isinstance(exc, _Retryable | TimeoutError),
                    on_retry=failed,
                    logger=log,
                    what="LLM attempt failed",
                    wait=wait,
                    sleep=self._sleep,
                ):
                    with attempt:
                        attempts += 1
                        if attempts > 1:
                            await on_restart(f"retrying ({last_error}) with {model}")
                        async with asyncio.timeout(self._s.llm_attempt_timeout):
                            result = await self._attempt(model, call, on_text)
                return LLMResult(**{**result.__dict__, "attempts": attempts})
            except (_Retryable, TimeoutError) as exc:
                failed(exc)  # this model's attempts are spent: the next model, if any
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise LLMUnavailable(
                    "the LLM endpoint refused the credentials", retryable=False
                ) from exc
            except _Refused as exc:
                last_error = f"{model} refused the request ({exc})"
            log.warning("model %s gave up: %s", model, last_error, extra={"task_id": call.seed})
        raise LLMUnavailable(f"the language model is unavailable: {last_error}")

    async def _attempt(self, model: str, call: LLMRequest, on_text: OnText) -> LLMResult:
        s = self._s
        parts: list[str] = []
        finish_reason: str | None = None
        prompt_tokens = completion_tokens = 0
        try:
            # The raw streaming response, read line by line (`ChatStream`): openai's own stream
            # builds a pydantic model per chunk, two thirds of the generator's CPU per
            # generation (py-spy, issue 8). Requests, errors and retries stay openai's.
            async with self._client.chat.completions.with_streaming_response.create(
                model=model,
                messages=cast("list[ChatCompletionMessageParam]", call.prompt.messages()),
                stream=True,
                stream_options={"include_usage": True},
                temperature=s.llm_temperature,
                frequency_penalty=s.llm_frequency_penalty,
                presence_penalty=s.llm_presence_penalty,
                max_tokens=s.llm_max_tokens,
            ) as response:
                stream = ChatStream()
                try:
                    async for line in response.iter_lines():
                        for piece in stream.feed(line):
                            parts.append(piece)
                            await on_text(piece)
                except httpx2.TransportError as exc:
                    raise _Retryable(
                        f"stream cut before completion ({type(exc).__name__})"
                    ) from exc
                if stream.error is not None:
                    raise _Retryable(f"the stream reported an error: {stream.error}")
                finish_reason = stream.finish_reason
                prompt_tokens, completion_tokens = stream.prompt_tokens, stream.completion_tokens
        except openai.RateLimitError as exc:
            raise _Retryable("rate limited (429)", _retry_after(exc.response)) from exc
        except openai.InternalServerError as exc:
            raise _Retryable(
                f"server error ({exc.status_code})", _retry_after(exc.response)
            ) from exc
        except openai.APIStatusError as exc:
            if exc.status_code in (408, 409) or exc.status_code >= 500:
                raise _Retryable(f"status {exc.status_code}", _retry_after(exc.response)) from exc
            if exc.status_code in (401, 403):
                raise
            raise _Refused(f"status {exc.status_code}") from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise _Retryable(f"connection failed: {type(exc).__name__}") from exc
        if finish_reason is None:
            # The stream ended without saying it was done: its text is truncated, never a draft.
            raise _Retryable("stream cut before completion")
        if finish_reason == "content_filter":
            raise _Refused("content filter")
        text = "".join(parts)
        if not text.strip():
            raise _Retryable("empty completion")
        return LLMResult(
            text=text,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_of(s.llm_prices, model, prompt_tokens, completion_tokens),
            finish_reason=finish_reason,
            attempts=1,
        )
