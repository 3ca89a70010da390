"""A local stand-in for an OpenAI-compatible endpoint, speaking the real chat-completions protocol.

`POST /v1/chat/completions` with `stream: true` answers `text/event-stream` with
`chat.completion.chunk` objects, a final usage chunk when `stream_options.include_usage` is set,
and `data: [DONE]`; without `stream` it answers one `chat.completion` object.

Timing is exact and configurable (`Timing`): the first content chunk leaves `ttft_ms` after the
request arrived, then one chunk every `token_ms`; every send is scheduled against the request's
arrival time, so event-loop delays do not accumulate. With `tokens` set the draft text is split
into exactly that many content chunks (the benchmark counts them); otherwise into 24-char pieces.

Misbehaviour (see `behaviours.py` for the names and parameters) is chosen per request, first match:
1. an `X-Fake-LLM: <behaviour>` request header, e.g. `429;retry_after=2`;
2. a `[[fake-llm:<behaviour>]]` marker anywhere in the messages, e.g. `[[fake-llm:cut;after=5]]`;
3. the next step of the script set with `POST /control {"script": [...]}` (or the older
   `POST /_script {"behaviours": [...]}`); steps are names, specs or `{"do": ..., "times": N}`.
   The same call may change the default timing: `{"timing": {"ttft_ms": 50, "tokens": 10}}`.
`GET /control` reports counters (requests, in flight, most in flight at once, by behaviour);
`GET /_requests` lists the last bodies received.

Run as a process:
`python -m bcrao_testkit.fake_openai --port 18080 --ttft-ms 200 --tokens 60 --token-ms 20`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .fake_behaviours import Behaviour, Script, Timing, from_request, parse

API_KEY = "sk-test-fake-key"
PROMPT_TOKENS = 412
KEEP_REQUESTS = 1000  # /_requests is for tests; a benchmark's thousands of bodies are not kept


_REMOVE = re.compile(r'^- remove "([^"\n]+)"', re.MULTILINE)


def draft_text(messages: list[dict[str, Any]]) -> str:
    """A draft the generator's checks accept (title, paragraphs, a closing question).

    A repair round (the model's own draft as an assistant message, then a list of problems)
    gets that draft back with every `- remove "<text>"` of the list taken out, as an obedient
    model would answer it."""
    if any(m.get("role") == "assistant" for m in messages):
        draft = str(next(m for m in reversed(messages) if m.get("role") == "assistant")["content"])
        for phrase in _REMOVE.findall(str(messages[-1].get("content", ""))):
            draft = re.sub(rf"\s*\b{re.escape(phrase)}\b", "", draft, flags=re.IGNORECASE)
        return draft
    user = next((m.get("content", "") for m in messages if m.get("role") == "user"), "")
    topic = " ".join(str(user).split()[:12]) or "this"
    return (
        "Title: Two years of chasing late invoices taught me more than I wanted\n\n"
        "I've been freelancing for a while and the part nobody warned me about is chasing money. "
        "Last spring three clients paid late in the same month and I was stuck. "
        f"I kept notes about {topic} because it kept coming up.\n\n"
        "What I tried first was a spreadsheet with due dates. It worked until it didn't, "
        "mostly because I forgot to look at it. Reminder emails felt awkward to send by hand.\n\n"
        "Eventually I set up automatic reminders and recurring invoices. Late payments dropped "
        "a lot. How do you all handle clients who go quiet after the invoice lands?"
    )


def split_text(text: str, tokens: int | None) -> list[str]:
    """`tokens` non-empty pieces that join back to `text` (24-char pieces when not set)."""
    if not tokens:
        return [text[i : i + 24] for i in range(0, len(text), 24)]
    if tokens > len(text):  # a very long generation: repeat the text, the count is what matters
        text = (text + "\n\n") * (tokens // len(text) + 1)
    cuts = [round(i * len(text) / tokens) for i in range(tokens + 1)]
    return [text[a:b] for a, b in itertools.pairwise(cuts)]


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion_tokens,
        "total_tokens": PROMPT_TOKENS + completion_tokens,
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key", 404: "model_not_found"}
    body = {"error": {"message": message, "type": kind.get(status, "server_error"), "code": None}}
    return JSONResponse(body, status_code=status, headers=headers)


class _Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.completed = 0
        self.by_behaviour: dict[str, int] = {}

    def enter(self, name: str) -> None:
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.by_behaviour[name] = self.by_behaviour.get(name, 0) + 1

    def leave(self, completed: bool) -> None:
        self.in_flight -= 1
        self.completed += int(completed)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "completed": self.completed,
            "by_behaviour": dict(self.by_behaviour),
        }


def create_app(
    *,
    chunk_delay: float = 0.0,
    retry_after: str = "1",
    ttft_ms: float = 0.0,
    tokens: int | None = None,
    token_ms: float | None = None,
    api_key: str = API_KEY,
) -> Starlette:
    """`chunk_delay` (seconds) is the older spelling of `token_ms`; `retry_after` the default
    Retry-After of a scripted 429."""
    timings = [  # one element, replaced by POST /control {"timing": {...}}
        Timing(
            ttft_ms=ttft_ms,
            tokens=tokens,
            token_ms=token_ms if token_ms is not None else chunk_delay * 1000,
        )
    ]
    script = Script()
    received: deque[dict[str, Any]] = deque(maxlen=KEEP_REQUESTS)
    stats = _Stats()

    async def set_script(request: Request) -> JSONResponse:
        body = await request.json()
        steps = body.get("script", body.get("behaviours", []))
        try:
            script.replace(steps)
            if isinstance(timing := body.get("timing"), dict):
                timings[0] = Behaviour("ok", timing).timing(timings[0])
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": {"message": str(exc)}}, status_code=400)
        received.clear()
        if body.get("reset_stats", True):
            stats.reset()
        return JSONResponse({"script": script.describe(), "timing": asdict(timings[0])})

    async def control(request: Request) -> JSONResponse:
        snapshot = stats.snapshot()
        return JSONResponse({**snapshot, "script": script.describe(), "timing": asdict(timings[0])})

    async def list_requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": list(received)})

    async def completions(request: Request) -> Response:
        arrived = asyncio.get_running_loop().time()
        if request.headers.get("authorization") != f"Bearer {api_key}":
            return _error(401, "Incorrect API key provided.")
        body = await request.json()
        received.append(body)
        try:
            behaviour = from_request(request.headers, body) or script.next()
        except ValueError as exc:
            return JSONResponse({"error": {"message": str(exc)}}, status_code=400)
        behaviour = behaviour or Behaviour("ok")
        model = body.get("model", "fake-model")
        if behaviour.name == "429":
            headers = {"retry-after": str(behaviour.params.get("retry_after", retry_after))}
            stats.enter("429")
            stats.leave(False)
            return _error(429, "Rate limit reached", headers)
        if behaviour.name in ("500", "401", "404"):
            stats.enter(behaviour.name)
            stats.leave(False)
            return _error(int(behaviour.name), f"scripted {behaviour.name}")
        timing = behaviour.timing(timings[0])
        pieces = split_text(draft_text(body.get("messages", [])), timing.tokens)
        completion_tokens = len(pieces) if timing.tokens else len("".join(pieces)) // 4
        if not body.get("stream"):
            return await _whole(model, pieces, completion_tokens, timing, arrived, behaviour, stats)
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        cut_at = int(behaviour.params.get("after", len(pieces) // 2))

        async def events() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            stats.enter(behaviour.name)
            completed = False
            try:
                if behaviour.name == "hang":
                    yield _chunk(model, {"role": "assistant", "content": ""}, None)
                    await asyncio.sleep(3600)
                for index, piece in enumerate(pieces):
                    if behaviour.name == "cut" and index == cut_at:
                        return
                    due = arrived + (timing.ttft_ms + index * timing.token_ms) / 1000
                    if (wait := due - loop.time()) > 0:
                        await asyncio.sleep(wait)
                    delta = {"role": "assistant", "content": piece} if index == 0 else None
                    yield _chunk(model, delta or {"content": piece}, None)
                yield _chunk(model, {}, "stop")
                if usage:
                    yield (
                        "data: "
                        + json.dumps(
                            {
                                "id": "chatcmpl-fake",
                                "object": "chat.completion.chunk",
                                "created": int(time.time()),
                                "model": model,
                                "choices": [],
                                "usage": _usage(completion_tokens),
                            }
                        )
                        + "\n\n"
                    )
                yield "data: [DONE]\n\n"
                completed = True
            finally:
                stats.leave(completed)

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/control", set_script, methods=["POST"]),
            Route("/control", control, methods=["GET"]),
            Route("/_script", set_script, methods=["POST"]),
            Route("/_requests", list_requests),
        ]
    )


async def _whole(
    model: str,
    pieces: list[str],
    completion_tokens: int,
    timing: Timing,
    arrived: float,
    behaviour: Behaviour,
    stats: _Stats,
) -> Response:
    """Non-streaming: the whole answer when the last token would have been streamed."""
    stats.enter(behaviour.name)
    try:
        if behaviour.name in ("hang", "cut"):  # no partial body exists without streaming
            await asyncio.sleep(3600 if behaviour.name == "hang" else 0)
            return _error(500, "scripted cut")
        due = arrived + (timing.ttft_ms + (len(pieces) - 1) * timing.token_ms) / 1000
        await asyncio.sleep(max(0.0, due - asyncio.get_running_loop().time()))
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(pieces)},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(completion_tokens),
        }
        stats.leave(True)
        return JSONResponse(body)
    except BaseException:
        stats.leave(False)
        raise


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--ttft-ms", type=float, default=0.0, help="time to first token")
    parser.add_argument("--tokens", type=int, default=None, help="content chunks per answer")
    parser.add_argument("--token-ms", type=float, default=None, help="time between chunks")
    parser.add_argument("--chunk-delay", type=float, default=0.01, help="seconds (older flag)")
    parser.add_argument("--retry-after", default="1")
    args = parser.parse_args(argv)
    app = create_app(
        chunk_delay=args.chunk_delay,
        retry_after=args.retry_after,
        ttft_ms=args.ttft_ms,
        tokens=args.tokens,
        token_ms=args.token_ms,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=4096,
        loop="auto",
        http="auto",
    )


if __name__ == "__main__":
    main()

__all__ = ["API_KEY", "Behaviour", "Script", "Timing", "create_app", "draft_text", "parse"]
