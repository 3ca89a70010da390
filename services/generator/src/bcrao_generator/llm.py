"""The LLM port and its two adapters: any OpenAI-compatible endpoint (`llm_openai`, imported
only when a key is configured: the openai package costs about a CPU-second to import) and the
offline composer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from . import offline
from .config import Settings

if TYPE_CHECKING:
    from bcrao_contracts.events import GenerateRequested
    from bcrao_rules.gating import GatingDecision

    from .prompt import Prompt


OnText = Callable[[str], Awaitable[None]]
OnRestart = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class LLMRequest:
    prompt: Prompt
    seed: str
    request: GenerateRequested
    decision: GatingDecision


@dataclass(frozen=True)
class LLMResult:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    finish_reason: str
    attempts: int

    @property
    def token_count(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLMUnavailable(Exception):
    """Every attempt on every model failed; the task ends as LLM_UNAVAILABLE."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class LLM(Protocol):
    name: str

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult: ...


class OfflineComposer:
    """Used when no key is configured: a deterministic composer, streamed like a model would."""

    name = "offline-composer"
    # The composer checks every fill against the request itself; asking it again would write
    # the same text, so the pipeline's repair round is for models only.
    repairs = False

    def __init__(self, *, chunk_delay_ms: int = 25) -> None:
        self._delay = chunk_delay_ms / 1000

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        text = offline.compose(call.request, call.decision)
        for piece in offline.chunks(text, call.seed):
            await on_text(piece)
            if self._delay:
                await asyncio.sleep(self._delay)
        return LLMResult(
            text=text,
            model=self.name,
            prompt_tokens=0,
            completion_tokens=0,
            cost_usd=0.0,
            finish_reason="stop",
            attempts=1,
        )


def build_llm(settings: Settings) -> LLM:
    if settings.uses_offline_composer:
        return OfflineComposer(chunk_delay_ms=settings.offline_chunk_delay_ms)
    from .llm_openai import OpenAILLM

    return OpenAILLM(settings)
