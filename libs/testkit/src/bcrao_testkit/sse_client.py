"""A strict reader of the gateway's SSE streams, for tests."""

from __future__ import annotations

import json
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
