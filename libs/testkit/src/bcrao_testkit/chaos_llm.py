"""The fake OpenAI server as a process, with a durable request log and per-task misbehaviour.

It wraps `fake_openai.create_app` in an ASGI layer that
- appends one JSON line per chat-completion request to `--log` when the request ends:
  `{"nonce", "started", "ended", "completed", "outcome"}`; `completed` is true only when the
  stream was sent to its end (a retried 429 or a cut stream is not a finished generation);
- misbehaves per task, as the request's text asks: the load driver writes `chaos=<what>` into a
  generation's context next to its nonce, so one task's faults never hit another task:
  `chaos=429x2` (the first two calls answer 429 with Retry-After: 1), `chaos=500x4`,
  `chaos=cutx1` (the stream stops half-way without a finish_reason), `chaos=slow75` (the whole
  stream takes about 75 s, longer than a consumer's poll interval).

The nonce is the `fz-<hex>` marker the load driver puts in every context: the prompt carries the
user's context verbatim, so the log is keyed by task without the generator's cooperation.

Run: `python -m bcrao_testkit.chaos_llm --port P --log requests.jsonl [--chunk-delay 0.01]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from . import fake_openai

NONCE = re.compile(r"fz-[0-9a-f]{12}")
CHAOS = re.compile(r"chaos=(429|500|cut)x(\d+)|chaos=slow(\d+)")
PIECES = 32  # about how many body messages the fake sends per stream (for the slow pacing)

Scope = dict[str, Any]
Receive = Any
Send = Any


class ChaosLLM:
    def __init__(self, app: Any, log_path: Path) -> None:
        self.app = app
        self.log_path = log_path
        self.calls: Counter[str] = Counter()

    def _log(self, record: dict[str, Any]) -> None:
        with self.log_path.open("a") as log:
            log.write(json.dumps(record) + "\n")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        text = body.decode(errors="replace")
        nonce_match = NONCE.search(text)
        nonce = nonce_match.group(0) if nonce_match else ""
        self.calls[nonce] += 1
        record: dict[str, Any] = {"nonce": nonce, "started": time.time(), "completed": False}
        outcome = "incomplete"
        try:
            outcome = await self._serve(scope, body, text, nonce, receive, send)
        finally:
            record.update(ended=time.time(), outcome=outcome, completed=outcome == "ok")
            self._log(record)

    async def _serve(
        self, scope: Scope, body: bytes, text: str, nonce: str, receive: Receive, send: Send
    ) -> str:
        chaos = CHAOS.search(text)
        call = self.calls[nonce]
        kind, times, slow = chaos.groups() if chaos else (None, None, None)
        if kind in ("429", "500") and call <= int(times or 0):
            status = int(kind)
            payload = json.dumps({"error": {"message": f"chaos {kind}", "type": "chaos"}})
            headers = [(b"content-type", b"application/json")]
            if status == 429:
                headers.append((b"retry-after", b"1"))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload.encode()})
            return f"error{status}"
        cut = kind == "cut" and call <= int(times or 0)
        pause = int(slow) / PIECES if slow else 0.0
        sent = {"bodies": 0, "done": False}
        replayed = False

        async def replay() -> dict[str, Any]:
            # The body once, then the real channel (so a client's disconnect still shows).
            nonlocal replayed
            if replayed:
                return dict(await receive())
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def paced_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent["bodies"] += 1
                last = not message.get("more_body", False)
                if cut and sent["bodies"] > PIECES // 2:
                    # Drop the rest, then end the response cleanly: no finish_reason, no [DONE].
                    if last:
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                chunk = message.get("body", b"")
                if pause and chunk:
                    await asyncio.sleep(pause)
                await send(message)
                # A client may hang up right after `[DONE]`, before the closing empty body.
                if last or b"data: [DONE]" in chunk:
                    sent["done"] = True
                return
            await send(message)

        await self.app(scope, replay, paced_send)
        if cut:
            return "cut"
        return "ok" if sent["done"] else "incomplete"


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--chunk-delay", type=float, default=0.01)
    args = parser.parse_args()
    app = ChaosLLM(fake_openai.create_app(chunk_delay=args.chunk_delay), args.log)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
