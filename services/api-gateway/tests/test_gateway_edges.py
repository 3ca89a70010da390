"""The edges a hostile or broken client probes: redirects, Host headers, slow clients."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bcrao_gateway.app import create_app
from bcrao_gateway.config import Settings
from bcrao_gateway.server import GatewayServer, server_config
from fastapi import FastAPI

from .conftest import make_settings


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_trailing_slash_redirect_never_takes_the_host_from_the_request(
    client: httpx.AsyncClient, alice: dict[str, str], method: str
) -> None:
    headers = {**alice, "Host": "evil.example"}
    response = await client.request(method, "/v1/campaigns/?limit=5", headers=headers)
    assert response.status_code == 307
    assert response.headers["location"] == "/v1/campaigns?limit=5"


async def test_a_path_that_would_redirect_off_site_is_not_redirected(
    client: httpx.AsyncClient,
) -> None:
    for path in (b"//evil.example/", b"/%2Fevil.example/", b"/\\evil.example/"):
        response = await client.get(httpx.URL("http://gateway").copy_with(raw_path=path))
        assert response.status_code == 404
        assert "location" not in response.headers


async def test_hosts_outside_the_allowed_list_are_refused(
    make_client: Any, alice: dict[str, str]
) -> None:
    _, client = await make_client(allowed_hosts=["gateway", "*.example.com"])
    assert (await client.get("/v1/usage", headers=alice)).status_code == 200
    ok = await client.get("/v1/usage", headers={**alice, "Host": "api.example.com:443"})
    assert ok.status_code == 200
    refused = await client.get("/v1/usage", headers={**alice, "Host": "evil.example"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    # Orchestrators probe the pod's own address.
    assert (await client.get("/healthz", headers={"Host": "10.1.2.3:8000"})).status_code == 200


def test_allowed_hosts_come_from_a_comma_separated_variable(monkeypatch: Any) -> None:
    monkeypatch.setenv("GATEWAY_ALLOWED_HOSTS", "drafts.example.com, gateway.internal")
    assert make_settings().allowed_hosts == ["drafts.example.com", "gateway.internal"]


# ---- slow clients, against the real server configuration ----


@contextlib.asynccontextmanager
async def real_server(app: FastAPI, settings: Settings) -> AsyncIterator[int]:
    config = server_config(settings.model_copy(update={"port": 0}), app)
    config.lifespan = "off"  # the routes under test need no Kafka
    server = GatewayServer(config, app)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "server did not start"
        await asyncio.sleep(0.01)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(20):  # a bound on the test, not the behaviour under test
        return await reader.read()


@pytest.fixture
async def slow_limits(store: Any, publisher: Any) -> AsyncIterator[int]:
    settings = make_settings(host="127.0.0.1", header_timeout_seconds=0.5, body_timeout_seconds=0.5)
    app = create_app(settings, store=store, publisher=publisher)
    async with real_server(app, settings) as port:
        yield port


async def test_headers_that_never_finish_are_cut_off(slow_limits: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_limits)
    writer.write(b"GET /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
    await writer.drain()
    assert await read_until_closed(reader) == b""  # closed without an answer
    writer.close()


async def test_a_body_that_never_finishes_is_answered_408(slow_limits: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_limits)
    writer.write(
        b"POST /v1/campaigns HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"name": '
    )
    await writer.drain()
    answer = await read_until_closed(reader)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"VALIDATION_ERROR"' in body.replace(b" ", b"")


async def test_a_second_request_on_a_kept_alive_connection_gets_its_own_header_deadline(
    slow_limits: int,
) -> None:
    with socket.create_connection(("127.0.0.1", slow_limits)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_limits)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nX-A: ")
    await writer.drain()
    answer = await read_until_closed(reader)
    writer.close()
    assert answer.count(b"HTTP/1.1 200 ") == 1


async def test_headers_over_the_size_limit_are_answered_431(store: Any, publisher: Any) -> None:
    settings = make_settings(max_header_bytes=2048)
    app = create_app(settings, store=store, publisher=publisher)
    async with real_server(app, settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 4096)
        await writer.drain()
        answer = await read_until_closed(reader)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_a_shutdown_signal_ends_open_streams_first(store: Any, publisher: Any) -> None:
    from uuid import uuid4

    from bcrao_gateway.streaming.hub import SubState, TaskHub

    settings = make_settings()
    app = create_app(settings, store=store, publisher=publisher)
    app.state.hub = hub = TaskHub(settings.stream)
    sub = hub.subscribe(uuid4(), create=True)
    assert sub is not None
    server = GatewayServer(server_config(settings, app), app)
    server.handle_exit(15, None)  # what uvicorn's SIGTERM handler calls
    assert server.should_exit
    await asyncio.sleep(0)  # the close runs on the loop, not inside the signal handler
    assert hub.closing
    assert sub.state is SubState.CLOSED
