"""The gateway's one ASGI middleware: request id, trusted hosts, body size cap and read deadline,
last-resort 500, access log.

Pure ASGI (no BaseHTTPMiddleware), so SSE responses pass through unbuffered and the body cap
works on the byte stream: a declared Content-Length over the cap is refused before one body byte
is read, and a chunked body is counted as it arrives and refused as soon as it crosses the cap.
A body that has not fully arrived `body_timeout` seconds after the headers is answered 408, so a
client trickling bytes cannot hold a connection (header deadlines are the server's: __main__).
A Host header outside `allowed_hosts` is a 400 (health probes excepted: orchestrators send the
pod's address).
The access line carries the route template, never the raw query string (stream tokens travel in
`?token=`), and never a header value.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.errors import envelope
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("bcrao_gateway.access")
log = logging.getLogger("bcrao_gateway.middleware")

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class _BodyTooLarge(Exception):
    pass


class _BodyTooSlow(Exception):
    pass


def host_allowed(host_header: str | None, allowed: Sequence[str]) -> bool:
    """Starlette's TrustedHostMiddleware rules: exact names, `*.domain` suffixes, `*` for any."""
    if "*" in allowed:
        return True
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        host = host[1 : host.find("]")] if "]" in host else host
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == host or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class GatewayMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_timeout: float = 15.0,
        allowed_hosts: Sequence[str] = ("*",),
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.allowed_hosts = tuple(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = incoming if incoming and REQUEST_ID_RE.match(incoming) else uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id

        if scope.get("path") not in PROBE_PATHS and not host_allowed(
            _header(scope, b"host"), self.allowed_hosts
        ):
            await _send_error(send, 400, ErrorCode.VALIDATION_ERROR, "invalid Host header")
            self._finish(scope, request_id, 400, started_at)
            return

        status = 0
        response_started = False
        too_large = False
        too_slow = False
        body_done = False
        received = 0
        loop = asyncio.get_running_loop()
        body_deadline = loop.time() + self.body_timeout

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        async def guarded_send(message: Message) -> None:
            if too_large or too_slow:
                return  # whatever the app answers to a cut-off body, the client gets 413/408
            await send_with_id(message)

        async def counting_receive() -> Message:
            nonlocal received, too_large, too_slow, body_done
            if body_done:  # after the body only http.disconnect comes (streams wait for it)
                return await receive()
            try:
                async with asyncio.timeout_at(body_deadline):
                    message = await receive()
            except TimeoutError:
                too_slow = True
                raise _BodyTooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
                body_done = not message.get("more_body", False)
            return message

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                too_large = True
            else:
                await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not (too_large or too_slow):
                if response_started:
                    log.exception(
                        "error after the response started", extra={"request_id": request_id}
                    )
                    raise
                log.exception("unhandled error", extra={"request_id": request_id})
                await _send_error(send_with_id, 500, ErrorCode.INTERNAL_ERROR, "internal error")
        if too_large and not response_started:
            await _send_error(
                send_with_id,
                413,
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"request body larger than {self.max_body_bytes} bytes",
                {"max_bytes": self.max_body_bytes},
                close=True,
            )
        elif too_slow and not response_started:
            await _send_error(
                send_with_id,
                408,
                ErrorCode.VALIDATION_ERROR,
                f"the request body did not arrive within {self.body_timeout:g} s",
                {"timeout_seconds": self.body_timeout},
                close=True,
            )
        self._finish(scope, request_id, status, started_at)

    def _finish(self, scope: Scope, request_id: str, status: int, started_at: float) -> None:
        fields = {
            "request_id": request_id,
            "method": scope.get("method"),
            "path": _route_template(scope),
            "status": status,
            "duration_ms": round((time.perf_counter() - started_at) * 1000, 1),
            "user": scope.get("state", {}).get("user_id"),
        }
        message = f"{fields['method']} {fields['path']} {status} {fields['duration_ms']}ms"
        access_log.info(message, extra=fields)


async def _send_error(
    send: Send,
    status: int,
    code: ErrorCode,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    close: bool = False,
) -> None:
    body = json.dumps(envelope(code, message, details)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
