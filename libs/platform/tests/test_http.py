"""The service-to-service client over a real socket (aiohttp's pool under httpx's API)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from bcrao_platform.http import service_client
from bcrao_testkit.servers import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

peers: set[int] = set()


async def echo(request: Request) -> JSONResponse:
    assert request.client is not None
    peers.add(request.client.port)  # one client port per connection
    await asyncio.sleep(0.01)
    return JSONResponse({"auth": request.headers.get("authorization"), "path": request.url.path})


async def test_calls_carry_the_credential_and_reuse_at_most_the_pooled_connections() -> None:
    app = Starlette(routes=[Route("/internal/{rest:path}", echo)])
    async with serve(app) as url:
        client = service_client(url + "/", "s3cret", timeout=5, max_connections=3)
        async with client:
            answers = await asyncio.gather(*(client.get(f"/internal/x{i}") for i in range(12)))
            again = await client.get("/internal/last")
    assert {a.json()["auth"] for a in [*answers, again]} == {"Bearer s3cret"}
    assert answers[5].json()["path"] == "/internal/x5"
    assert len(peers) <= 3  # twelve calls, three connections kept and reused


async def test_an_unreachable_peer_is_an_httpx_transport_error() -> None:
    client = service_client("http://127.0.0.1:1", "t", timeout=2, max_connections=1)
    async with client:
        with pytest.raises(httpx.TransportError):
            await client.get("/internal/x")
