"""SSE progress streams seen by clients: late joiners, resumes, other and restarted gateways.

Real processes on the real broker. The generator writes slowly (120 ms between text pieces), so a
generation runs for several seconds and a test can act in the middle of its chunk stream. Every
test checks what matters to a client: across all its (re)connections, the message ids run 1, 2,
3... without a gap or a repeat and end in exactly one terminal message.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import socket
import termios
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bcrao_testkit.processes import Stack
from bcrao_testkit.sse_client import Followed, Frame, Stream, follow_stream, read_stream
from bcrao_testkit.waits import eventually

from .conftest import api, create_demo_campaign, extra_gateway, running_stack
from .test_generate_flow import STAGES, generate

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHUNK_DELAY_MS = "120"
READERS = 50


@pytest.fixture(scope="module")
def slow_stack(kafka_bootstrap: str, database_url: str) -> Iterator[Stack]:
    env = {"GENERATOR_OFFLINE_CHUNK_DELAY_MS": CHUNK_DELAY_MS}
    with running_stack(kafka_bootstrap, database_url, generator_env=env) as running:
        yield running


# ---- helpers ----


def assert_sse_response(stream: Stream) -> None:
    """Headers and framing of one 200 stream response (DOMAIN.md "SSE stream")."""
    assert stream.status_code == 200, stream.body[:500]
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.headers["x-accel-buffering"] == "no"
    assert stream.frames, stream.body[:500]
    assert stream.frames[0].retry is not None, "the stream opens with a retry: hint"
    assert b"\nevent:" not in b"\n" + stream.body, "messages must be unnamed"
    assert all(frame.event is None for frame in stream.frames)


def assert_full_sequence(messages: list[Frame]) -> list[int]:
    """Ids 1..n with no gap and no repeat; exactly one terminal message, the last one."""
    ids = [m.id for m in messages]
    assert ids, "no message received"
    assert ids == list(range(1, len(ids) + 1)), f"ids not 1..n without gap or repeat: {ids}"
    types = [str(m.data["type"]) for m in messages if m.data]
    assert sum(t in ("complete", "error") for t in types) == 1, types
    assert types[-1] == "complete", messages[-1].data
    statuses = [m.data["stage"] for m in messages if m.data and m.data["type"] == "status"]
    assert statuses == STAGES
    return [i for i in ids if i is not None]


def assert_text_matches_draft(messages: list[Frame]) -> None:
    """The chunks, in order and each once, spell out the stored draft."""
    text = "".join(m.data["content"] for m in messages if m.data and m.data["type"] == "chunk")
    draft = messages[-1].data["draft"] if messages[-1].data else {}
    assert draft["title"] in text
    assert draft["body"].split("\n\n")[0][:40] in text


def assert_followed(seen: Followed) -> None:
    for attempt in seen.attempts:
        assert_sse_response(attempt)
    assert_full_sequence(seen.messages)
    assert_text_matches_draft(seen.messages)


def chunks(messages: list[Frame]) -> int:
    return sum(1 for m in messages if m.data and m.data["type"] == "chunk")


async def start_generation(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    campaign = await create_demo_campaign(client)
    accepted = await generate(
        client,
        campaign,
        subreddit="SaaS",
        archetype="ProblemSolution",
        context="Chasing late payments from clients eats my Fridays",
    )
    return campaign, accepted


def follow_in_background(
    client: httpx.AsyncClient, url: str, timeout: float
) -> tuple[asyncio.Task[Followed], asyncio.Event]:
    """Follows the stream in a task, like a browser; the event is set once 3 chunks arrived."""
    some_text = asyncio.Event()

    def watch(_: Frame, seen: Followed) -> None:
        if chunks(seen.messages) >= 3:
            some_text.set()

    follower = asyncio.create_task(follow_stream(client, url, timeout=timeout, on_message=watch))
    return follower, some_text


# ---- tests ----


async def test_late_subscriber_gets_everything_from_the_first_message(slow_stack: Stack) -> None:
    async with api(slow_stack, "late-joiner") as client:
        campaign, accepted = await start_generation(client)
        listed: dict[str, Any] = {}

        async def stored() -> bool:
            listed.update((await client.get(f"/v1/campaigns/{campaign}/drafts")).json())
            return bool(listed["total"])

        await eventually(stored, "the draft was stored", hang_guard=60, every=0.2)
        await _wait_until_the_gateway_has_the_end(client, accepted["stream_url"])

        stream = await read_stream(client, accepted["stream_url"])
        assert_sse_response(stream)
        assert_full_sequence(stream.messages)
        assert_text_matches_draft(stream.messages)
        complete = stream.messages[-1].data or {}
        assert complete["draft"]["id"] == listed["drafts"][0]["id"]


async def _wait_until_the_gateway_has_the_end(client: httpx.AsyncClient, url: str) -> None:
    """DraftStored (so `complete`) follows the stored row: poll until the gateway has it.

    A resume point past any id answers 204 once the task's terminal message is buffered, and an
    open (empty) stream before that; the probe reads no message of the task.
    """

    async def has_the_end() -> bool:
        async with client.stream("GET", url, headers={"Last-Event-ID": "999999"}) as probe:
            assert probe.status_code in (200, 204)
            return probe.status_code == 204

    await eventually(has_the_end, "the gateway saw the task end", every=0.2)


async def test_reconnect_with_last_event_id_gets_exactly_the_rest(slow_stack: Stack) -> None:
    async with api(slow_stack, "reconnecting") as client:
        _, accepted = await start_generation(client)
        url = accepted["stream_url"]
        # Four stage statuses come before the text, so this stops after three chunks.
        first = await read_stream(client, url, stop_after=7)
        assert_sse_response(first)
        assert first.types()[-3:] == ["chunk", "chunk", "chunk"], first.types()
        last = first.ids[-1]

        rest = await read_stream(client, url, headers={"Last-Event-ID": str(last)})
        assert_sse_response(rest)
        assert rest.ids[0] == last + 1, (first.ids, rest.ids)
        assert "chunk" in rest.types(), "the reconnect came after the text was already written"
        assert_full_sequence(first.messages + rest.messages)
        assert_text_matches_draft(first.messages + rest.messages)

        # Resuming after the terminal message: nothing is left, and EventSource stops on 204.
        done = await client.get(url, headers={"Last-Event-ID": str(rest.ids[-1])})
        assert done.status_code == 204


async def test_a_stream_opened_on_another_gateway_instance(slow_stack: Stack) -> None:
    with extra_gateway(slow_stack) as gateway_b:
        async with (
            api(slow_stack, "two-gateways") as gateway_a,
            httpx.AsyncClient(base_url=gateway_b.url, timeout=30) as via_b,
        ):
            _, accepted = await start_generation(gateway_a)
            assert accepted["stream_url"].startswith("/v1/"), "stream_url is origin-relative"
            # No bearer on B: the signed token in stream_url is valid on any instance.
            stream = await read_stream(via_b, accepted["stream_url"])
            assert_sse_response(stream)
            assert_full_sequence(stream.messages)
            assert_text_matches_draft(stream.messages)


async def test_gateway_killed_mid_stream_and_restarted(slow_stack: Stack) -> None:
    with extra_gateway(slow_stack) as first:
        gateway = first
        try:
            async with api(slow_stack, "survivor") as client:
                client.base_url = httpx.URL(first.url)
                _, accepted = await start_generation(client)
                follower, some_text = follow_in_background(client, accepted["stream_url"], 90)
                try:
                    await asyncio.wait_for(some_text.wait(), 30)
                    first.kill()  # SIGKILL: no farewell, the connection just breaks
                    # The same deployment again on the same port; it replays the recent events.
                    gateway = first.replacement()
                    gateway.start()
                    await asyncio.to_thread(gateway.wait_healthy)
                    seen = await asyncio.wait_for(follower, 90)
                finally:
                    follower.cancel()
        finally:
            gateway.stop()

    assert len(seen.attempts) >= 2, "the client never had to reconnect"
    assert seen.errors, "the kill did not break the first connection"
    assert_followed(seen)
    before_kill = seen.attempts[0].messages
    after_restart = [m for attempt in seen.attempts[1:] for m in attempt.messages]
    assert chunks(before_kill) >= 3
    assert chunks(after_restart) > 0, "the rest of the text was lost"
    assert after_restart[0].id == (before_kill[-1].id or 0) + 1


def _server_errors(metrics: str) -> int:
    from prometheus_client.parser import text_string_to_metric_families

    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(metrics)
            for sample in family.samples
            if sample.name == "http_requests_total" and sample.labels["status"].startswith("5")
        )
    )


async def test_a_stalled_client_does_not_hold_back_fifty_others(slow_stack: Stack) -> None:
    # A tiny per-client window: a client this far behind is dropped rather than waited for.
    env = {"GATEWAY_STREAM__CLIENT_QUEUE_SIZE": "8"}
    with extra_gateway(slow_stack, env) as gateway:
        async with api(slow_stack, "crowd") as client:
            client.base_url = httpx.URL(gateway.url)
            # /readyz answered 503 while the new gateway replayed the topics: count from here.
            errors_before = _server_errors((await client.get("/metrics")).text)
            _, accepted = await start_generation(client)
            url = accepted["stream_url"]
            stalled = _stalled_request(gateway.port, url)
            try:
                followed = await asyncio.gather(
                    *(follow_stream(client, url, timeout=60) for _ in range(READERS))
                )
                for seen in followed:
                    assert_followed(seen)
                # They all finished while the stalled client held its connection open, with the
                # gateway's bytes piling up unread in its receive buffer. (How fast they finish
                # is the SSE benchmark's business, not this test's.)
                assert _unread_bytes(stalled) > 0
                assert (await client.get("/healthz")).status_code == 200
                metrics = (await client.get("/metrics")).text
            finally:
                stalled.close()
    # A whole task's stream fits in the socket buffers, so the stalled client is not dropped
    # here (tests/streaming covers that); what matters is that nobody else waited for it.
    assert _server_errors(metrics) == errors_before
    assert "gateway_stream_open_streams" in metrics


def _unread_bytes(sock: socket.socket) -> int:
    pending = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, pending)
    return pending[0]


def _stalled_request(port: int, path: str) -> socket.socket:
    """Sends the stream request and then never reads: its receive window soon stays shut."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.connect(("127.0.0.1", port))
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
    sock.sendall(request.encode())
    return sock


def assert_plain_404(response: httpx.Response) -> None:
    """A finished JSON answer, not a stream that was opened and then left waiting."""
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_unknown_or_foreign_task_is_a_plain_404(slow_stack: Stack) -> None:
    async with (
        api(slow_stack, "stream-owner") as owner,
        api(slow_stack, "stream-intruder") as intruder,
    ):
        campaign, accepted = await start_generation(owner)
        unknown = f"/v1/campaigns/{campaign}/drafts/generate/stream/{uuid.uuid4()}"
        # The timeout only guards a hang: an endless stream would never complete the response.
        assert_plain_404(await owner.get(unknown, timeout=10))
        foreign = accepted["stream_url"].split("?")[0]
        assert_plain_404(await intruder.get(foreign, timeout=10))

        # The owner's own stream of that task is complete all the same.
        stream = await read_stream(owner, accepted["stream_url"])
        assert_sse_response(stream)
        assert_full_sequence(stream.messages)


async def test_generator_killed_mid_generation_the_task_still_ends_once(slow_stack: Stack) -> None:
    """At-least-once end to end: the generator dies (SIGKILL) with a task half written; its
    GenerateRequested was never committed, so a new generator process runs the task again.
    The client's stream stays gap-free and ends once; exactly one draft is stored and one unit
    used. (The preview text may splice the two runs: seqs already seen are dropped, and chunk
    boundaries depend on timing. The final draft is the second run's, whole.)"""
    old = slow_stack.services["generator"]
    async with api(slow_stack, "crash-survivor") as client:
        campaign, accepted = await start_generation(client)
        follower, some_text = follow_in_background(client, accepted["stream_url"], 150)
        try:
            await asyncio.wait_for(some_text.wait(), 30)
            old.kill()
            new = old.replacement()
            slow_stack.services["generator"] = new  # the stack stops this one at the end
            new.start()
            await asyncio.to_thread(new.wait_healthy)
            seen = await asyncio.wait_for(follower, 150)
        finally:
            follower.cancel()

        for attempt in seen.attempts:
            assert_sse_response(attempt)
        assert_full_sequence(seen.messages)
        draft = seen.messages[-1].data["draft"] if seen.messages[-1].data else {}
        listed = (await client.get(f"/v1/campaigns/{campaign}/drafts")).json()
        assert listed["total"] == 1
        assert listed["drafts"][0]["id"] == draft["id"]
        assert (await client.get("/v1/usage")).json()["drafts_used"] == 1
