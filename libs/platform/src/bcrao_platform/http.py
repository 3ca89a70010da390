"""The client one service uses to call another's internal REST (gateway and generator →
draft-store): pooled, bounded, carrying the service credential.

httpx's API over aiohttp's connection pool (`httpx_aiohttp`). httpcore's own pool scans every
pooled connection, polling each idle socket, on every request and every response: with a few
dozen calls in flight that was over a third of the gateway's CPU per accept (py-spy, issue 8);
aiohttp's connector hands out a connection in constant time. Every connection is kept (a lower
keep-alive cap closed the ones above it after each call, so every burst reconnected). Tests pass
their own transport (httpx's ASGITransport over the real app).
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport

# Below the servers' own keep-alive (uvicorn's 5 s), so a client never reuses a connection the
# server is closing at that moment.
KEEPALIVE_SECONDS = 3.0


def service_client(
    base_url: str,
    token: str,
    *,
    timeout: httpx.Timeout | float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
        limits=limits,
        transport=transport or AiohttpTransport(limits=limits, trust_env=False),
        follow_redirects=False,
    )
