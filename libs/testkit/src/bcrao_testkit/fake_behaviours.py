"""What the fake LLM does with one request: the behaviour names, their parameters, the script.

A behaviour is written `name` or `name;key=value;key=value`:

- `ok`: the normal answer (parameters ttft_ms, tokens, token_ms override the server's timing)
- `429`: 429 rate_limit_exceeded with a Retry-After header (retry_after, seconds)
- `500`, `401`, `404`: server_error, invalid_api_key, model_not_found
- `cut`: the stream stops after `after` content chunks (default half), no finish_reason
- `hang`: headers and one empty chunk, then silence
- `long`: a very long generation (default 2,000 chunks at the token rate; tokens, token_ms)
- `slow`: like ok, meant with a large ttft_ms

A script step is a behaviour string or `{"do": "<behaviour>", "times": N}` (N requests in a row:
a burst of 500s is `{"do": "500", "times": 5}`). Steps are consumed one per request; when the
script is empty requests get `ok`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

NAMES = frozenset({"ok", "429", "500", "401", "404", "cut", "hang", "long", "slow"})
HEADER = "x-fake-llm"
MARKER = re.compile(r"\[\[fake-llm:([^\]]+)\]\]")
LONG_TOKENS = 2000


@dataclass(frozen=True)
class Timing:
    ttft_ms: float = 0.0
    tokens: int | None = None
    token_ms: float = 0.0


@dataclass(frozen=True)
class Behaviour:
    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def timing(self, default: Timing) -> Timing:
        timing = default
        if self.name == "long":
            timing = replace(timing, tokens=LONG_TOKENS)
        if "ttft_ms" in self.params:
            timing = replace(timing, ttft_ms=float(self.params["ttft_ms"]))
        if "token_ms" in self.params:
            timing = replace(timing, token_ms=float(self.params["token_ms"]))
        if "tokens" in self.params:
            timing = replace(timing, tokens=int(self.params["tokens"]))
        return timing

    def spec(self) -> str:
        return ";".join([self.name, *(f"{k}={v}" for k, v in self.params.items())])


def _number(value: str) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def parse(spec: str) -> Behaviour:
    """`"cut;after=5"` → Behaviour("cut", {"after": 5}); ValueError on an unknown name."""
    name, *pairs = [part.strip() for part in spec.strip().split(";") if part.strip()]
    if name not in NAMES:
        raise ValueError(f"unknown fake LLM behaviour {name!r}; known: {sorted(NAMES)}")
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"behaviour parameter {pair!r} is not key=value")
        try:
            params[key.strip()] = _number(value)
        except ValueError as exc:
            raise ValueError(f"behaviour parameter {key!r} must be a number") from exc
    return Behaviour(name, params)


def from_request(headers: Mapping[str, str], body: dict[str, Any]) -> Behaviour | None:
    """The behaviour the request itself asks for (header first, then a marker in a message)."""
    if spec := headers.get(HEADER):
        return parse(spec)
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str) and (found := MARKER.search(content)):
            return parse(found.group(1))
    return None


class Script:
    """Behaviours for the next requests, in order (one per request)."""

    def __init__(self) -> None:
        self._steps: deque[Behaviour] = deque()

    def replace(self, steps: list[Any]) -> None:
        parsed: list[Behaviour] = []
        for step in steps:
            if isinstance(step, str):
                parsed.append(parse(step))
            elif isinstance(step, dict) and isinstance(step.get("do"), str):
                times = int(step.get("times", 1))
                extra = {k: v for k, v in step.items() if k not in ("do", "times")}
                base = parse(step["do"])
                parsed.extend([Behaviour(base.name, {**base.params, **extra})] * times)
            else:
                raise ValueError(f"script step {step!r} is neither a string nor {{'do': ...}}")
        self._steps = deque(parsed)

    def next(self) -> Behaviour | None:
        return self._steps.popleft() if self._steps else None

    def describe(self) -> list[str]:
        return [step.spec() for step in self._steps]
