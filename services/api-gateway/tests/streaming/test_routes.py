"""The stream route over a real uvicorn server: auth, ownership, replay, resume, live, pings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from bcrao_contracts.api import TaskState
from bcrao_contracts.enums import TaskStatus
from bcrao_gateway.auth import issue_user_token, sign_stream_token
from bcrao_gateway.config import Settings
from bcrao_gateway.errors import install_error_handlers, unavailable
from bcrao_gateway.streaming import start_streaming
from bcrao_gateway.streaming.hub import TaskHub
from bcrao_gateway.streaming.routes import router
from bcrao_gateway.streaming.settings import StreamSettings
from bcrao_testkit.waits import eventually
from fastapi import FastAPI

USER = "user-1"


class FakeStore:
    """draft-store's task view, scoped by user like the real internal API."""

    def __init__(self) -> None:
        self.tasks: dict[UUID, TaskState] = {}
        self.calls = 0
        self.down = False

    async def get_task(self, user_id: str, task_id: UUID) -> TaskState | None:
        self.calls += 1
        if self.down:
            raise unavailable("draft-store is unreachable")
        state = self.tasks.get(task_id)
        return state if state is not None and state.user_id == user_id else None

    def add(self, task, status: TaskStatus = TaskStatus.QUEUED, **extra: Any) -> None:
        self.tasks[task.task_id] = TaskState(
            task_id=task.task_id,
            campaign_id=task.campaign_id,
            user_id=task.user_id,
            status=status,
            **extra,
        )


@dataclass
class Gateway:
    url: str
    app: FastAPI
    hub: TaskHub
    store: FakeStore
    settings: Settings

    def path(self, task, campaign_id: UUID | None = None) -> str:
        campaign = campaign_id or task.campaign_id
        return f"{self.url}/v1/campaigns/{campaign}/drafts/generate/stream/{task.task_id}"

    def bearer(self, user: str = USER) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_user_token(self.settings, user)}"}


@contextlib.asynccontextmanager
async def serve(ready: bool = True, **stream: Any) -> AsyncIterator[Gateway]:
    settings = Settings(
        jwt_secret="s" * 40,
        draft_store_token="t" * 20,
        stream=StreamSettings(**{"ping_seconds": 30, "catch_up_wait_seconds": 0.5, **stream}),
    )
    store = FakeStore()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with start_streaming(app, settings, reader=False) as hub:
            if not ready:
                hub._ready.clear()  # as if the reader were still replaying the topics
            yield

    app = FastAPI(lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    install_error_handlers(app)
    app.include_router(router)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Gateway(f"http://127.0.0.1:{port}", app, app.state.hub, store, settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class Body:
    """Reads one streaming response in the background; `until` polls what arrived so far."""

    def __init__(self, response: httpx.Response) -> None:
        self.seen = b""
        self._reader = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        async for chunk in response.aiter_raw():
            self.seen += chunk

    async def until(self, needle: bytes, timeout: float = 5) -> bytes:
        async def poll() -> None:
            while needle not in self.seen:
                if self._reader.done():
                    raise AssertionError(f"stream ended without {needle!r}: {self.seen!r}")
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), timeout)
        return self.seen

    async def rest(self, timeout: float = 5) -> bytes:
        await asyncio.wait_for(self._reader, timeout)
        return self.seen


async def read_all(response: httpx.Response, timeout: float = 5) -> bytes:
    return await Body(response).rest(timeout)


async def read_until(response: httpx.Response, needle: bytes, timeout: float = 5) -> bytes:
    return await Body(response).until(needle, timeout)


def feed(hub: TaskHub, task, n: int = 3) -> None:
    hub.ingest(task.status(1))
    for seq in range(2, n + 1):
        hub.ingest(task.chunk(seq))
    hub.ingest(task.stored(n + 1))


@pytest.fixture
async def gw() -> AsyncIterator[Gateway]:
    async with serve() as gateway:
        yield gateway


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


async def test_buffered_task_streams_from_seq_1_with_sse_headers(gw, client, task, frames_of):
    gw.store.add(task)
    feed(gw.hub, task, n=3)
    async with client.stream("GET", gw.path(task), headers=gw.bearer()) as r:
        raw = await read_all(r)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-accel-buffering"] == "no"
    assert raw.startswith(b"retry: 3000\n\n")
    assert b"event:" not in raw  # unnamed messages only
    frames = frames_of(raw)
    assert [i for i, _ in frames] == [1, 2, 3, 4]
    assert [d["type"] for _, d in frames] == ["status", "chunk", "chunk", "complete"]
    assert frames[-1][1]["draft"]["task_id"] == str(task.task_id)


async def test_no_credentials_is_401_and_a_task_id_alone_is_not_enough(gw, client, task):
    gw.store.add(task)
    feed(gw.hub, task)
    r = await client.get(gw.path(task))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "AUTH_REQUIRED"
    r = await client.get(gw.path(task), params={"token": "not-a-token"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "AUTH_INVALID"


async def test_unknown_and_foreign_tasks_answer_404(gw, client, task):
    feed(gw.hub, task)  # buffered, but draft-store does not know it for this user
    r = await client.get(gw.path(task), headers=gw.bearer())
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    gw.store.add(task)  # owned by user-1
    r = await client.get(gw.path(task), headers=gw.bearer("someone-else"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert gw.hub.metrics()["open_streams"] == 0  # answered, not held open as a stream


async def test_campaign_in_path_must_match_the_task(gw, client, task):
    gw.store.add(task)
    feed(gw.hub, task)
    r = await client.get(gw.path(task, campaign_id=uuid4()), headers=gw.bearer())
    assert r.status_code == 404
    token = sign_stream_token(gw.settings, USER, task.task_id)
    r = await client.get(gw.path(task, campaign_id=uuid4()), params={"token": token})
    assert r.status_code == 404  # the hub learned the campaign from DraftStored


async def test_stream_token_authorises_only_its_own_task(gw, client, task, frames_of):
    feed(gw.hub, task)
    other = type(task)()
    feed(gw.hub, other)
    token = sign_stream_token(gw.settings, USER, task.task_id)
    async with client.stream("GET", gw.path(task), params={"token": token}) as r:
        raw = await read_all(r)
    assert r.status_code == 200
    assert [i for i, _ in frames_of(raw)] == [1, 2, 3, 4]
    assert gw.store.calls == 0  # the token itself proves ownership
    r = await client.get(gw.path(other), params={"token": token})
    assert r.status_code == 401


async def test_last_event_id_resumes_exactly(gw, client, task, frames_of):
    gw.store.add(task)
    feed(gw.hub, task, n=5)
    headers = gw.bearer() | {"Last-Event-ID": "3"}
    async with client.stream("GET", gw.path(task), headers=headers) as r:
        raw = await read_all(r)
    assert [i for i, _ in frames_of(raw)] == [4, 5, 6]
    async with client.stream(
        "GET", gw.path(task), headers=gw.bearer(), params={"last_event_id": "5"}
    ) as r:
        raw = await read_all(r)
    assert [i for i, _ in frames_of(raw)] == [6]
    r = await client.get(gw.path(task), headers=gw.bearer() | {"Last-Event-ID": "6"})
    assert r.status_code == 204  # nothing left: EventSource stops reconnecting
    r = await client.get(gw.path(task), headers=gw.bearer() | {"Last-Event-ID": "x"})
    assert r.status_code == 422


async def test_finished_task_no_longer_buffered_is_answered_from_draft_store(
    gw, client, task, frames_of
):
    gw.store.add(task, TaskStatus.COMPLETED, terminal_seq=7, draft=task.draft())
    async with client.stream("GET", gw.path(task), headers=gw.bearer()) as r:
        raw = await read_all(r)
    frames = frames_of(raw)
    assert [(i, d["type"]) for i, d in frames] == [(7, "complete")]
    assert frames[0][1]["draft"]["id"] == str(task.draft().id)

    failed = type(task)()
    gw.store.add(
        failed,
        TaskStatus.FAILED,
        terminal_seq=3,
        error_code="LLM_UNAVAILABLE",
        error_message="no model",
        error_details={"attempts": 2},
    )
    token = sign_stream_token(gw.settings, USER, failed.task_id)
    async with client.stream("GET", gw.path(failed), params={"token": token}) as r:
        raw = await read_all(r)
    assert frames_of(raw) == [
        (
            3,
            {
                "type": "error",
                "code": "LLM_UNAVAILABLE",
                "message": "no model",
                "details": {"attempts": 2},
            },
        )
    ]
    r = await client.get(gw.path(failed), params={"token": token, "last_event_id": "3"})
    assert r.status_code == 204


async def test_queued_task_waits_for_its_events_and_closes_after_the_terminal(
    gw, client, task, frames_of
):
    gw.store.add(task)
    async with client.stream("GET", gw.path(task), headers=gw.bearer()) as r:
        assert r.status_code == 200
        await eventually(lambda: gw.hub.metrics()["open_streams"] == 1, "the stream is open")
        gw.hub.ingest(task.status(1))
        gw.hub.ingest(task.chunk(3))  # held until 2 arrives
        body = Body(r)
        await body.until(b"id: 1\n")
        assert b"id: 3" not in body.seen  # 1 went out, 3 did not: it waits for 2
        gw.hub.ingest(task.chunk(2))
        gw.hub.ingest(task.failed(4))
        raw = await body.rest()
    frames = frames_of(raw)
    assert [i for i, _ in frames] == [1, 2, 3, 4]
    assert frames[-1][1]["type"] == "error"
    await eventually(lambda: gw.hub.metrics()["open_streams"] == 0, "the stream is released")


async def test_pings_and_bounded_lifetime(client, task):
    async with serve(ping_seconds=0.1, max_lifetime_seconds=0.6) as gw:
        gw.store.add(task)
        async with client.stream("GET", gw.path(task), headers=gw.bearer()) as r:
            # read_all returns only when the server ends the response: no event of this queued
            # task ever arrives, so only the bounded lifetime can end it.
            raw = await read_all(r, timeout=10)
        frames = [f for f in raw.split(b"\n\n") if f.strip()]
    assert raw.count(b": ping\n\n") >= 3  # kept alive until then
    assert all(not f.startswith(b"id:") for f in frames)  # no terminal event closed it
    assert gw.hub.metrics()["open_streams"] == 0


async def test_client_disconnect_releases_the_stream(gw, task):
    gw.store.add(task)
    async with httpx.AsyncClient() as c, c.stream("GET", gw.path(task), headers=gw.bearer()) as r:
        await read_until(r, b"retry:")
        assert gw.hub.metrics()["open_streams"] == 1
    await eventually(lambda: gw.hub.metrics()["open_streams"] == 0, "the stream is released")


async def test_restarting_gateway_waits_for_catch_up_before_asking_draft_store(
    client, task, frames_of
):
    async with serve(ready=False, catch_up_wait_seconds=3) as gw:
        # draft-store still says queued, but the replay is about to deliver the whole task
        gw.store.add(task)
        token = sign_stream_token(gw.settings, USER, task.task_id)

        def replayed() -> None:
            feed(gw.hub, task, n=2)
            gw.hub.mark_ready()

        asyncio.get_running_loop().call_later(0.3, replayed)
        async with client.stream("GET", gw.path(task), params={"token": token}) as r:
            raw = await read_all(r)
    assert [i for i, _ in frames_of(raw)] == [1, 2, 3]
    assert gw.store.calls == 0


async def test_farewell_on_shutdown(client, task):
    async with serve() as gw:
        gw.store.add(task)
        async with client.stream("GET", gw.path(task), headers=gw.bearer()) as r:
            body = Body(r)
            await body.until(b"retry:")
            gw.hub.close_all()  # what SIGTERM and the lifespan exit do
            raw = await body.rest()
    assert b": gateway shutting down" in raw


async def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout(task):
    import socket

    async with serve(
        send_timeout_seconds=0.5, client_queue_size=100_000, buffer_max_events_per_task=5000
    ) as gw:
        gw.store.add(task)
        host, port = gw.url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        path = gw.path(task).removeprefix(gw.url)
        token = gw.bearer()["Authorization"]
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\r\n".encode())
        try:
            await eventually(lambda: gw.hub.metrics()["open_streams"] == 1, "the stream is open")
            big = "x" * 20_000
            for seq in range(1, 400):  # ~8 MB: far more than the socket buffers hold
                gw.hub.ingest(task.chunk(seq, big))
                await asyncio.sleep(0)
            await eventually(
                lambda: gw.hub.metrics()["open_streams"] == 0, "the slow client is dropped"
            )
            assert gw.hub.metrics()["dropped_slow_clients"] == 1
        finally:
            sock.close()


@pytest.mark.parametrize("credential", ["bearer", "stream_token"])
async def test_while_draft_store_is_down_a_stream_tells_eventsource_to_retry(
    gw, client, task, credential, frames_of
):
    gw.store.add(task)
    gw.store.down = True
    if credential == "bearer":
        request = {"headers": gw.bearer()}
    else:  # the hub does not know the task, so draft-store must say what it is
        request = {"params": {"token": sign_stream_token(gw.settings, USER, task.task_id)}}
    async with client.stream("GET", gw.path(task), **request) as r:
        raw = await read_all(r)
    assert r.status_code == 200  # a 503 would make EventSource give up for good
    assert r.headers["content-type"].startswith("text/event-stream")
    assert raw.startswith(b"retry: 5000\n\n")
    assert b"data:" not in raw  # nothing terminal: the client reconnects and resumes

    gw.store.down = False
    feed(gw.hub, task, n=2)
    async with client.stream("GET", gw.path(task), **request) as r:
        assert [d["type"] for _, d in frames_of(await read_all(r))][-1] == "complete"


async def test_a_stream_token_whose_subject_is_not_the_owner_is_refused(gw, client, task):
    """A validly signed token for this very task, issued to someone else: 404 like a stranger's
    task, whether the hub knows the owner (from DraftStored) or draft-store is asked."""
    feed(gw.hub, task)  # the hub learns the owner from DraftStored
    forged = sign_stream_token(gw.settings, "someone-else", task.task_id)
    r = await client.get(gw.path(task), params={"token": forged})
    assert r.status_code == 404
    assert gw.store.calls == 0
    running = type(task)()
    gw.hub.ingest(running.status(1))  # progress only: the hub does not know whose task it is
    gw.store.add(running, TaskStatus.RUNNING)
    forged = sign_stream_token(gw.settings, "someone-else", running.task_id)
    r = await client.get(gw.path(running), params={"token": forged})
    assert r.status_code == 404
    assert gw.store.calls == 1  # draft-store was asked, for the token's subject
