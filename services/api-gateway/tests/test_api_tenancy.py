"""Cross-tenant matrix through the public API, against the real draft-store and PostgreSQL.

User A owns a campaign, a community profile, a blacklist entry, a stored draft and a queued task.
User B (who has a campaign and a queued task of their own) tries every endpoint on A's resources.
Each attempt must be answered exactly like the same request naming a random id: same status, same
envelope, same message; B learns nothing about what exists. After each attempt A's resources, A's
usage and B's usage are what they were, and nothing was published.

The gateway runs in-process (ASGITransport) with the real draft-store app behind its store client
(ASGITransport too; no network). The draft is created the honest way short of running the
generator: the task is opened through `POST .../drafts/generate` and its DraftGenerated is applied
with draft-store's own `ingest.store_generated` (what its Kafka consumer runs). The publisher is a
capturing fake (Kafka is not the subject here). The stream route needs the TaskHub, so
`start_streaming` is entered with `reader=False` (no Kafka reader; the hub starts empty).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.integration

from bcrao_gateway.streaming import start_streaming  # noqa: E402
from bcrao_stacktest.factories import CAMPAIGN  # noqa: E402
from bcrao_stacktest.inprocess import (  # noqa: E402
    GatewayOverStore,
    gateway_over_draft_store,
    gateway_settings,
)
from bcrao_testkit.fakes import CapturingPublisher  # noqa: E402

JWT_SECRET = "tenancy-secret-" + "t" * 40
PROFILE = {"isc_score": 6.4, "avg_sentence_length": 17.3, "formality_level": 7.9}
ENTRY = {
    "pattern": "check out my",
    "description": "self promotion",
    "category": "Promotional",
    "severity": "high",
    "subreddit": "SaaS",
}
REQUEST = {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing late invoices"}


@dataclass
class World:
    client: httpx.AsyncClient
    publisher: CapturingPublisher
    a: dict[str, str]  # A's bearer header
    b: dict[str, str]  # B's bearer header
    ids: dict[str, str]  # A's (and B's) resource ids and stream tokens
    snapshot: Callable[[], Any]


def _stream_token(stream_url: str) -> str:
    [token] = parse_qs(urlsplit(stream_url).query)["token"]
    return token


@pytest.fixture(scope="module")
async def world(store_database: str) -> AsyncIterator[World]:
    settings = gateway_settings(
        jwt_secret=JWT_SECRET,
        generate_rate_per_minute=1000,
        max_in_flight=100,
        stream={"shutdown_farewell": False, "catch_up_wait_seconds": 0},
    )
    async with (
        gateway_over_draft_store(store_database, settings) as stack,
        start_streaming(stack.app, settings, reader=False),
    ):
        yield await _populate(stack)


async def _populate(stack: GatewayOverStore) -> World:
    client, publisher = stack.client, stack.publisher
    suffix = secrets.token_hex(4)
    user_a, user_b = f"alice-{suffix}", f"bob-{suffix}"
    a, b = stack.auth(user_a), stack.auth(user_b)

    async def ok(response: httpx.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    campaign = await ok(await client.post("/v1/campaigns", json=CAMPAIGN, headers=a), 201)
    cid = campaign["id"]
    await ok(await client.put(f"/v1/campaigns/{cid}/profiles/SaaS", json=PROFILE, headers=a), 201)
    entry = await ok(
        await client.post(f"/v1/campaigns/{cid}/blacklist", json=ENTRY, headers=a), 201
    )
    generate = f"/v1/campaigns/{cid}/drafts/generate"
    first = await ok(await client.post(generate, json=REQUEST, headers=a), 202)
    [event] = publisher.events
    stored = await stack.store_draft(event)
    queued = await ok(await client.post(generate, json=REQUEST, headers=a), 202)

    b_campaign = await ok(await client.post("/v1/campaigns", json=CAMPAIGN, headers=b), 201)
    b_generate = f"/v1/campaigns/{b_campaign['id']}/drafts/generate"
    b_queued = await ok(await client.post(b_generate, json=REQUEST, headers=b), 202)

    ids = {
        "campaign": cid,
        "entry": entry["id"],
        "draft": str(stored.id),
        "done_task": first["task_id"],
        "task": queued["task_id"],
        "a_token": _stream_token(queued["stream_url"]),
        "b_campaign": b_campaign["id"],
        "b_task": b_queued["task_id"],
        "b_token": _stream_token(b_queued["stream_url"]),
    }

    async def snapshot() -> dict[str, Any]:
        reads = {
            "campaign": f"/v1/campaigns/{cid}",
            "campaigns": "/v1/campaigns",
            "profiles": f"/v1/campaigns/{cid}/profiles",
            "profile": f"/v1/campaigns/{cid}/profiles/SaaS",
            "blacklist": f"/v1/campaigns/{cid}/blacklist",
            "drafts": f"/v1/campaigns/{cid}/drafts",
            "draft": f"/v1/drafts/{ids['draft']}",
            "usage_a": "/v1/usage",
        }
        state = {
            name: await ok(await client.get(path, headers=a), 200) for name, path in reads.items()
        }
        state["usage_b"] = await ok(await client.get("/v1/usage", headers=b), 200)
        # What is left of the per-minute limit moves with every attempt (admission counts a
        # refused one too); the month's usage is what must not change.
        for usage in (state["usage_a"], state["usage_b"]):
            usage.pop("generate_remaining_this_minute", None)
        state["published"] = len(publisher.events)
        return state

    before = await snapshot()
    assert before["drafts"]["total"] == 1
    assert before["usage_a"]["drafts_used"] == 2
    assert before["usage_b"]["drafts_used"] == 1
    assert ENTRY["pattern"] in [e["pattern"] for e in before["blacklist"]["entries"]]
    return World(client, publisher, a, b, ids, snapshot)


@dataclass(frozen=True)
class Attempt:
    """One request by B: `path` is built from the ids (A's real ones, or one replaced by a random
    uuid for the comparison); `target` names the id that is replaced."""

    method: str
    path: Callable[[dict[str, str]], str]
    target: str
    body: dict[str, Any] | None = None
    params: Callable[[dict[str, str]], dict[str, str]] | None = None
    bearer: bool = True  # B's bearer token; False: no header (a stream token in the query)
    status: int = 404
    code: str = "RESOURCE_NOT_FOUND"


def _stream(ids: dict[str, str], campaign: str = "campaign", task: str = "task") -> str:
    return f"/v1/campaigns/{ids[campaign]}/drafts/generate/stream/{ids[task]}"


ATTEMPTS: dict[str, Attempt] = {
    "get-campaign": Attempt("GET", lambda i: f"/v1/campaigns/{i['campaign']}", "campaign"),
    "patch-campaign": Attempt(
        "PATCH",
        lambda i: f"/v1/campaigns/{i['campaign']}",
        "campaign",
        body={"name": "taken over", "status": "paused"},
    ),
    "delete-campaign": Attempt("DELETE", lambda i: f"/v1/campaigns/{i['campaign']}", "campaign"),
    "put-profile": Attempt(
        "PUT",
        lambda i: f"/v1/campaigns/{i['campaign']}/profiles/SaaS",
        "campaign",
        body={**PROFILE, "isc_score": 1.0},
    ),
    "put-new-profile": Attempt(
        "PUT",
        lambda i: f"/v1/campaigns/{i['campaign']}/profiles/freelance",
        "campaign",
        body=PROFILE,
    ),
    "list-profiles": Attempt(
        "GET", lambda i: f"/v1/campaigns/{i['campaign']}/profiles", "campaign"
    ),
    "get-profile": Attempt(
        "GET", lambda i: f"/v1/campaigns/{i['campaign']}/profiles/SaaS", "campaign"
    ),
    "list-blacklist": Attempt(
        "GET", lambda i: f"/v1/campaigns/{i['campaign']}/blacklist", "campaign"
    ),
    "post-blacklist": Attempt(
        "POST",
        lambda i: f"/v1/campaigns/{i['campaign']}/blacklist",
        "campaign",
        body={"pattern": "invoicing", "description": "block the product's own topic"},
    ),
    "patch-blacklist-entry": Attempt(
        "PATCH",
        lambda i: f"/v1/blacklist/{i['entry']}",
        "entry",
        body={"pattern": "nothing", "description": "taken over"},
    ),
    "delete-blacklist-entry": Attempt("DELETE", lambda i: f"/v1/blacklist/{i['entry']}", "entry"),
    "list-drafts": Attempt("GET", lambda i: f"/v1/campaigns/{i['campaign']}/drafts", "campaign"),
    "list-drafts-filtered": Attempt(
        "GET",
        lambda i: f"/v1/campaigns/{i['campaign']}/drafts",
        "campaign",
        params=lambda i: {"status": "generated,edited", "subreddit": "SaaS"},
    ),
    "get-draft": Attempt("GET", lambda i: f"/v1/drafts/{i['draft']}", "draft"),
    "patch-draft-edits": Attempt(
        "PATCH", lambda i: f"/v1/drafts/{i['draft']}", "draft", body={"user_edits": "mine now"}
    ),
    "patch-draft-status": Attempt(
        "PATCH", lambda i: f"/v1/drafts/{i['draft']}", "draft", body={"status": "discarded"}
    ),
    "delete-draft": Attempt("DELETE", lambda i: f"/v1/drafts/{i['draft']}", "draft"),
    "regenerate": Attempt(
        "POST", lambda i: f"/v1/drafts/{i['draft']}/regenerate", "draft", body={"feedback": "x"}
    ),
    "generate": Attempt(
        "POST",
        lambda i: f"/v1/campaigns/{i['campaign']}/drafts/generate",
        "campaign",
        body=REQUEST,
    ),
    "stream-queued-task-with-b-bearer": Attempt("GET", _stream, "task"),
    "stream-finished-task-with-b-bearer": Attempt(
        "GET", lambda i: _stream(i, task="done_task"), "done_task"
    ),
    "stream-a-task-under-b-campaign-with-b-bearer": Attempt(
        "GET", lambda i: _stream(i, campaign="b_campaign"), "task"
    ),
    "stream-b-task-under-a-campaign-with-b-bearer": Attempt(
        "GET", lambda i: _stream(i, task="b_task"), "campaign"
    ),
    "stream-b-task-under-a-campaign-with-b-stream-token": Attempt(
        "GET",
        lambda i: _stream(i, task="b_task"),
        "campaign",
        params=lambda i: {"token": i["b_token"]},
        bearer=False,
    ),
    # A stream token is bound to one user and one task: presented for any other task it is not
    # a credential at all, so the gateway answers 401 AUTH_INVALID (for a random task id too).
    "stream-a-task-with-b-stream-token": Attempt(
        "GET",
        _stream,
        "task",
        params=lambda i: {"token": i["b_token"]},
        bearer=False,
        status=401,
        code="AUTH_INVALID",
    ),
    "stream-other-a-task-with-a-stream-token": Attempt(
        "GET",
        lambda i: _stream(i, task="done_task"),
        "done_task",
        params=lambda i: {"token": i["a_token"]},
        bearer=False,
        status=401,
        code="AUTH_INVALID",
    ),
}


async def _send(world: World, attempt: Attempt, ids: dict[str, str]) -> httpx.Response:
    return await world.client.request(
        attempt.method,
        attempt.path(ids),
        json=attempt.body,
        params=attempt.params(ids) if attempt.params else None,
        headers=world.b if attempt.bearer else None,
    )


def _comparable(response: httpx.Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "body": response.json(),
        "content-type": response.headers.get("content-type"),
        "www-authenticate": response.headers.get("www-authenticate"),
        "retry-after": response.headers.get("retry-after"),
    }


@pytest.mark.parametrize("name", list(ATTEMPTS))
async def test_b_cannot_tell_a_resources_from_missing_ones(world: World, name: str) -> None:
    attempt = ATTEMPTS[name]
    before = await world.snapshot()

    foreign = await _send(world, attempt, world.ids)
    missing = await _send(world, attempt, {**world.ids, attempt.target: str(uuid.uuid4())})

    assert foreign.status_code == attempt.status, foreign.text
    body = foreign.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == attempt.code, body
    assert _comparable(foreign) == _comparable(missing)
    assert await world.snapshot() == before


async def test_owner_still_reaches_everything(world: World) -> None:
    """The matrix above is meaningful: the same requests by A are not refused."""
    ids, a = world.ids, world.a
    for path in (
        f"/v1/campaigns/{ids['campaign']}",
        f"/v1/campaigns/{ids['campaign']}/profiles",
        f"/v1/campaigns/{ids['campaign']}/profiles/SaaS",
        f"/v1/campaigns/{ids['campaign']}/blacklist",
        f"/v1/campaigns/{ids['campaign']}/drafts",
        f"/v1/drafts/{ids['draft']}",
    ):
        response = await world.client.get(path, headers=a)
        assert response.status_code == 200, (path, response.text)
    # A finished task the hub no longer buffers is answered from draft-store: one complete frame.
    stream = await world.client.get(_stream(ids, task="done_task"), headers=a)
    assert stream.status_code == 200, stream.text
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert b'"type":"complete"' in stream.content.replace(b" ", b"")
    token = await world.client.get(
        _stream(ids, task="done_task"),
        params={"token": ids["a_token"]},
    )
    assert token.status_code == 401  # A's own token, but for another task
