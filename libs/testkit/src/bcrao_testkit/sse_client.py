"""A strict reader of the gateway's SSE streams, for tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Frame:
    id: int | None
    data: dict[str, Any] | None
    event: str | None = None
    retry: int | None = None
    comment: bool = False


@dataclass
class Stream:
    status_code: int
    headers: httpx.Headers
    frames: list[Frame] = field(default_factory=list)
    body: bytes = b""

    @property
    def messages(self) -> list[Frame]:
        return [f for f in self.frames if f.data is not None]

    @property
    def ids(self) -> list[int]:
        return [f.id for f in self.messages if f.id is not None]

    def types(self) -> list[str]:
        return [str(f.data["type"]) for f in self.messages if f.data]


def parse_frames(text: str) -> list[Frame]:
    frames: list[Frame] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        frame = Frame(id=None, data=None)
        data_lines: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                frame.comment = True
            elif line.startswith("id:"):
                frame.id = int(line[3:].strip())
            elif line.startswith("data:"):
                data_lines.append(line[5:].lstrip(" "))
            elif line.startswith("event:"):
                frame.event = line[6:].strip()
            elif line.startswith("retry:"):
                frame.retry = int(line[6:].strip())
        if data_lines:
            frame.data = json.loads("\n".join(data_lines))
        frames.append(frame)
    return frames


async def read_stream(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
    stop_after: int | None = None,
) -> Stream:
    """Reads until the server closes the stream (or `stop_after` messages, then disconnects)."""
    async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
        stream = Stream(response.status_code, response.headers)
        buffer = ""
        async for piece in response.aiter_text():
            buffer += piece
            stream.body += piece.encode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                stream.frames.extend(parse_frames(block + "\n\n"))
                if stop_after is not None and len(stream.messages) >= stop_after:
                    return stream
        if response.status_code != 200:
            await response.aread()
            stream.body = response.content
    return stream


TERMINAL = frozenset({"complete", "error"})


@dataclass
class Followed:
    """Everything one client saw across reconnects, in order, like a browser's EventSource."""

    attempts: list[Stream] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # transport failures (reset, refused, ...)

    @property
    def messages(self) -> list[Frame]:
        return [m for stream in self.attempts for m in stream.messages]

    @property
    def ids(self) -> list[int | None]:
        return [m.id for m in self.messages]

    def types(self) -> list[str]:
        return [str(m.data["type"]) for m in self.messages if m.data]

    @property
    def last_id(self) -> int | None:
        ids = [i for i in self.ids if i is not None]
        return ids[-1] if ids else None

    @property
    def finished(self) -> bool:
        messages = self.messages
        last = messages[-1].data if messages else None
        return last is not None and last.get("type") in TERMINAL


async def follow_stream(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    last_event_id: int | None = None,
    timeout: float = 60,
    retry_delay: float = 0.2,
    max_attempts: int = 100,
    on_message: Callable[[Frame, Followed], None] | None = None,
) -> Followed:
    """Reads a stream to its terminal message, reconnecting with `Last-Event-ID` like EventSource.

    A stream that ends (or breaks) before a `complete`/`error` message is opened again after
    `retry_delay` with the last id received; a refused connection is retried until `timeout`.
    Stops at a terminal message, a 204 (nothing left) or any other non-200 answer. An incomplete
    frame cut by a broken connection is discarded, as EventSource does.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = Followed()
    resume = last_event_id
    while not seen.finished and len(seen.attempts) < max_attempts:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        sent = dict(headers or {})
        if resume is not None:
            sent["Last-Event-ID"] = str(resume)
        try:
            async with client.stream("GET", url, headers=sent, timeout=remaining) as response:
                stream = Stream(response.status_code, response.headers)
                seen.attempts.append(stream)
                if response.status_code != 200:
                    stream.body = await response.aread()
                    break
                buffer = ""
                async for piece in response.aiter_text():
                    buffer += piece
                    stream.body += piece.encode()
                    while "\n\n" in buffer:
                        block, buffer = buffer.split("\n\n", 1)
                        for frame in parse_frames(block + "\n\n"):
                            stream.frames.append(frame)
                            if frame.id is not None:
                                resume = frame.id
                            if frame.data is not None and on_message is not None:
                                on_message(frame, seen)
        except httpx.TransportError as exc:
            seen.errors.append(f"{type(exc).__name__}: {exc}")
        if seen.finished:
            break
        await asyncio.sleep(min(retry_delay, max(deadline - loop.time(), 0)))
    return seen
