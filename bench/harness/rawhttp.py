"""A minimal HTTP/1.1 client on asyncio streams, for load generation.

httpx costs several times the CPU of the servers it measures on this 2-core machine; this client
does only what the benchmarks need: keep-alive requests with Content-Length or chunked bodies,
and reading a streamed (chunked, SSE) body line by line as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any


class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, limit=1 << 20
            )

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None

    async def send(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> tuple[int, dict[str, str]]:
        """Writes the request and reads the response head; the body is read by the caller."""
        await self._open()
        assert self.reader is not None
        assert self.writer is not None
        raw = (
            b""
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(raw)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        head: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode("latin-1").partition(":")
            head[key.strip().lower()] = value.strip()
        return status, head

    async def body(self, head: dict[str, str]) -> bytes:
        assert self.reader is not None
        if "content-length" in head:
            data = await self.reader.readexactly(int(head["content-length"]))
        else:
            data = b"".join([piece async for piece in self.pieces(head)])
        if head.get("connection", "").lower() == "close":
            await self.close()
        return data

    async def pieces(self, head: dict[str, str]) -> AsyncIterator[bytes]:
        """The body as it arrives (chunked transfer encoding, or until the server closes)."""
        assert self.reader is not None
        if head.get("transfer-encoding", "").lower() != "chunked":
            while data := await self.reader.read(65536):
                yield data
            await self.close()
            return
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return
            data = await self.reader.readexactly(size)
            await self.reader.readexactly(2)
            yield data

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> tuple[int, bytes]:
        try:
            status, head = await self.send(method, path, headers, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()  # a keep-alive connection the server dropped: one fresh try
            status, head = await self.send(method, path, headers, body)
        return status, await self.body(head)

    async def events(self, head: dict[str, str]) -> AsyncIterator[bytes]:
        """SSE `data:` payloads of a streamed body, each as soon as its frame is complete."""
        buffer = b""
        async for piece in self.pieces(head):
            buffer += piece
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                for line in frame.split(b"\n"):
                    if line.startswith(b"data:"):
                        yield line[5:].strip()
