"""A local stand-in for an OpenAI-compatible endpoint, speaking the real streaming protocol.

`POST /v1/chat/completions` with `stream: true` answers `text/event-stream` with
`chat.completion.chunk` objects, a final usage chunk when `stream_options.include_usage` is set,
and `data: [DONE]`. Tests script misbehaviour per request through `POST /_script`:
`ok`, `429` (with Retry-After), `500`, `401`, `404`, `cut` (stream stops mid-way, no finish_reason),
`hang` (headers, then silence). `GET /_requests` lists what was received.

Run as a process: `python -m bcrao_testkit.fake_openai --port 18080`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

API_KEY = "sk-test-fake-key"


def _text_for(messages: list[dict[str, Any]]) -> str:
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


def _chunk(model: str, content: str | None, finish: str | None) -> str:
    delta: dict[str, Any] = {"content": content} if content is not None else {}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key", 404: "model_not_found"}
    body = {"error": {"message": message, "type": kind.get(status, "server_error"), "code": None}}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(*, chunk_delay: float = 0.0, retry_after: str = "1") -> Starlette:
    script: list[str] = []
    received: list[dict[str, Any]] = []

    async def set_script(request: Request) -> JSONResponse:
        script[:] = list((await request.json()).get("behaviours", []))
        received.clear()
        return JSONResponse({"behaviours": script})

    async def list_requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": received})

    async def completions(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided.")
        body = await request.json()
        received.append(body)
        behaviour = script.pop(0) if script else "ok"
        model = body.get("model", "fake-model")
        if behaviour == "429":
            return _error(429, "Rate limit reached", {"retry-after": retry_after})
        if behaviour in ("500", "401", "404"):
            return _error(int(behaviour), f"scripted {behaviour}")
        text = _text_for(body.get("messages", []))
        pieces = [text[i : i + 24] for i in range(0, len(text), 24)]
        usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def events() -> AsyncIterator[str]:
            if behaviour == "hang":
                yield _chunk(model, "", None)
                await asyncio.sleep(3600)
            for index, piece in enumerate(pieces):
                if behaviour == "cut" and index == len(pieces) // 2:
                    return
                yield _chunk(model, piece, None)
                if chunk_delay:
                    await asyncio.sleep(chunk_delay)
            yield _chunk(model, None, "stop")
            if usage:
                tokens = {"prompt_tokens": 412, "completion_tokens": len(text) // 4}
                tokens["total_tokens"] = sum(tokens.values())
                yield (
                    "data: "
                    + json.dumps(
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion.chunk",
                            "created": int(time.time()),
                            "model": model,
                            "choices": [],
                            "usage": tokens,
                        }
                    )
                    + "\n\n"
                )
            yield "data: [DONE]\n\n"

        if not body.get("stream"):
            return JSONResponse({"error": {"message": "this fake only streams"}}, status_code=400)
        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/_script", set_script, methods=["POST"]),
            Route("/_requests", list_requests),
        ]
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--chunk-delay", type=float, default=0.01)
    args = parser.parse_args()
    uvicorn.run(
        create_app(chunk_delay=args.chunk_delay),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
