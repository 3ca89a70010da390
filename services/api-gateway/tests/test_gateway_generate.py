"""Generate and regenerate: 202 only after the publish, limits, and release on publish failure."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
from bcrao_contracts.events import GenerateRequested
from bcrao_gateway.app import create_app
from bcrao_gateway.auth import verify_stream_token
from bcrao_gateway.publisher import PublishError

REQUEST = {"subreddit": "r/SaaS", "archetype": "Feedback", "context": "late invoices"}


def _generate_url(campaign_id: str) -> str:
    return f"/v1/campaigns/{campaign_id}/drafts/generate"


async def test_generate_publishes_then_answers_202(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    campaign_id: str,
    publisher: Any,
    settings: Any,
) -> None:
    response = await client.post(_generate_url(campaign_id), json=REQUEST, headers=alice)
    assert response.status_code == 202, response.text
    body = response.json()
    task_id = UUID(body["task_id"])
    assert body["status"] == "queued"

    [event] = publisher.events
    assert isinstance(event, GenerateRequested)
    assert event.task_id == task_id
    assert event.key == str(task_id).encode()
    assert (event.user_id, event.subreddit, event.context) == ("alice", "SaaS", "late invoices")
    assert str(event.campaign.id) == campaign_id

    url = urlsplit(body["stream_url"])
    assert url.scheme == ""
    assert url.netloc == ""
    assert url.path == f"/v1/campaigns/{campaign_id}/drafts/generate/stream/{task_id}"
    [token] = parse_qs(url.query)["token"]
    assert verify_stream_token(settings, token, task_id) == "alice"


async def test_the_event_draft_store_answered_is_published_byte_for_byte(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    campaign_id: str,
    publisher: Any,
    fake_store: Any,
) -> None:
    # A newer draft-store adds a field this gateway's contracts do not know: it must survive.
    fake_store.extra_event_fields = {"added_later": {"nested": [1, "two"]}}
    response = await client.post(_generate_url(campaign_id), json=REQUEST, headers=alice)
    assert response.status_code == 202, response.text
    draft = fake_store.add_draft("alice", campaign_id)
    again = await client.post(f"/v1/drafts/{draft['id']}/regenerate", headers=alice)
    assert again.status_code == 202, again.text

    assert publisher.payloads == fake_store.answered_events
    assert all(b'"added_later":{"nested":[1,"two"]}' in p for p in publisher.payloads)
    assert [str(e.task_id) for e in publisher.events] == [
        response.json()["task_id"],
        again.json()["task_id"],
    ]


async def test_regenerate_carries_parent_and_feedback(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    campaign_id: str,
    publisher: Any,
    fake_store: Any,
) -> None:
    draft = fake_store.add_draft("alice", campaign_id)
    url = f"/v1/drafts/{draft['id']}/regenerate"
    response = await client.post(url, json={"feedback": "shorter"}, headers=alice)
    assert response.status_code == 202, response.text
    assert str(publisher.events[-1].parent_draft_id) == draft["id"]
    assert publisher.events[-1].feedback == "shorter"
    assert f"/v1/campaigns/{campaign_id}/drafts/generate/stream/" in response.json()["stream_url"]

    without_body = await client.post(url, headers=alice)
    assert without_body.status_code == 202
    assert publisher.events[-1].feedback is None
    too_long = await client.post(url, json={"feedback": "x" * 1001}, headers=alice)
    assert too_long.status_code == 422


async def test_publish_failure_releases_the_task_and_answers_503(
    make_client: Any,
    alice: dict[str, str],
    campaign_body: dict[str, Any],
    publisher: Any,
    fake_store: Any,
) -> None:
    _, client = await make_client(max_in_flight=1)
    cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
    publisher.fail = True
    response = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0
    assert publisher.events == []
    [released] = fake_store.released
    assert released["code"] == "UNAVAILABLE"
    assert fake_store.tasks[released["task_id"]]["status"] == "failed"
    assert fake_store.reserved("alice") == 0
    assert "gateway_publish_failures_total 1.0" in (await client.get("/metrics")).text

    publisher.fail = False  # the failed task holds no in-flight place (the cap is 1 here)
    again = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
    assert again.status_code == 202


async def test_rate_limit_is_429_with_retry_after(
    make_client: Any,
    alice: dict[str, str],
    bob: dict[str, str],
    campaign_body: dict[str, Any],
    clock: Any,
    fake_store: Any,
) -> None:
    fake_store.limit = 100
    _, client = await make_client(max_in_flight=100, generate_rate_per_minute=10)
    cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
    for second in range(10):
        clock.now = 1000.0 + second
        assert (
            await client.post(_generate_url(cid), json=REQUEST, headers=alice)
        ).status_code == 202
    opened = len(fake_store.tasks)

    refused = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert error["details"]["reason"] == "rate"
    assert refused.headers["retry-after"] == "51"  # the oldest of the ten leaves at t=1060
    assert len(fake_store.tasks) == opened  # a refused request never reaches draft-store

    other = await client.post(_generate_url(cid), json=REQUEST, headers=bob)
    assert other.status_code == 404  # bob is not limited by alice's window (and not her owner)

    clock.now = 1060.0
    assert (await client.post(_generate_url(cid), json=REQUEST, headers=alice)).status_code == 202


async def test_in_flight_cap_frees_on_finish_and_on_terminal_state(
    make_client: Any, alice: dict[str, str], campaign_body: dict[str, Any], fake_store: Any
) -> None:
    app, client = await make_client(max_in_flight=3)
    cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
    tasks = []
    for _ in range(3):
        response = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
        tasks.append(UUID(response.json()["task_id"]))

    refused = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
    assert refused.status_code == 429
    assert refused.json()["error"]["details"]["reason"] == "in_flight"
    assert refused.headers["retry-after"] == "5"

    app.state.in_flight.finish(tasks[0])  # what the stream hub reports on a terminal event
    assert (await client.post(_generate_url(cid), json=REQUEST, headers=alice)).status_code == 202

    # No terminal event seen here (another instance streamed it): draft-store's task state counts.
    fake_store.tasks[str(tasks[1])]["status"] = "completed"
    assert (await client.post(_generate_url(cid), json=REQUEST, headers=alice)).status_code == 202
    assert (await client.post(_generate_url(cid), json=REQUEST, headers=alice)).status_code == 429


async def test_concurrent_requests_admit_exactly_the_cap(
    make_client: Any, alice: dict[str, str], campaign_body: dict[str, Any]
) -> None:
    _, client = await make_client(max_in_flight=3)
    cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
    responses = await asyncio.gather(
        *(client.post(_generate_url(cid), json=REQUEST, headers=alice) for _ in range(6))
    )
    assert sorted(r.status_code for r in responses) == [202, 202, 202, 429, 429, 429]


async def test_plan_limit_passes_through_and_frees_the_slot(
    make_client: Any, alice: dict[str, str], campaign_body: dict[str, Any], fake_store: Any
) -> None:
    fake_store.limit = 1
    app, client = await make_client(max_in_flight=3)
    cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
    assert (await client.post(_generate_url(cid), json=REQUEST, headers=alice)).status_code == 202
    refused = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "PLAN_LIMIT_REACHED"
    assert refused.json()["error"]["details"] == {"used": 1, "limit": 1, "plan": "trial"}
    assert app.state.in_flight.count("alice") == 1
    metrics = (await client.get("/metrics")).text
    assert 'gateway_generate_refused_total{code="PLAN_LIMIT_REACHED"} 1.0' in metrics
    assert "gateway_generate_accepted_total 1.0" in metrics


async def test_invalid_generate_body_opens_no_task(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_id: str, fake_store: Any
) -> None:
    for body in (
        {**REQUEST, "archetype": "Listicle"},
        {**REQUEST, "subreddit": "r/"},
        {**REQUEST, "context": "x" * 2001},
        {**REQUEST, "account_status": "Veteran"},
    ):
        response = await client.post(_generate_url(campaign_id), json=body, headers=alice)
        assert response.status_code == 422, body
    assert fake_store.tasks == {}


async def test_generate_for_someone_elses_campaign_is_404(
    client: httpx.AsyncClient, bob: dict[str, str], campaign_id: str, publisher: Any
) -> None:
    response = await client.post(_generate_url(campaign_id), json=REQUEST, headers=bob)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert publisher.events == []


class ClaimedDespiteTimeout:
    """The write reached Kafka and the generator claimed the task, but no ack came back in time."""

    def __init__(self, fake_store: Any) -> None:
        self.ready = True
        self.events: list[Any] = []
        self._store = fake_store

    async def publish(self, event: Any, *, payload: bytes | None = None) -> None:
        self.events.append(event)
        self._store.tasks[str(event.task_id)]["status"] = "running"
        raise PublishError("no acknowledgement from Kafka in time")


async def test_an_unclear_publish_the_generator_claimed_is_answered_202(
    settings: Any, store: Any, fake_store: Any, alice: dict[str, str], campaign_body: Any
) -> None:
    app = create_app(settings, store=store, publisher=ClaimedDespiteTimeout(fake_store))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
        response = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    assert fake_store.released == []  # draft-store refused the release: it went through
    assert fake_store.tasks[task_id]["status"] == "running"
    assert f"/stream/{task_id}?token=" in response.json()["stream_url"]


async def test_while_kafka_is_known_unreachable_nothing_is_reserved(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    campaign_id: str,
    publisher: Any,
    fake_store: Any,
) -> None:
    publisher.ready = False  # the producer's probe saw the broker go away
    response = await client.post(_generate_url(campaign_id), json=REQUEST, headers=alice)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0
    assert fake_store.tasks == {}  # no task opened, no unit reserved, nothing to release
    assert publisher.events == []


async def test_refusals_the_system_caused_do_not_use_up_the_rate_budget(
    make_client: Any,
    alice: dict[str, str],
    campaign_body: dict[str, Any],
    publisher: Any,
    fake_store: Any,
) -> None:
    fake_store.limit = 100
    _, client = await make_client(max_in_flight=100, generate_rate_per_minute=2)
    cid = (await client.post("/v1/campaigns", json=campaign_body, headers=alice)).json()["id"]
    publisher.fail = True  # Kafka away: every request is a 503
    for _ in range(3):
        assert (
            await client.post(_generate_url(cid), json=REQUEST, headers=alice)
        ).status_code == 503
    publisher.fail = False  # back: the whole per-minute budget is still there
    for _ in range(2):
        assert (
            await client.post(_generate_url(cid), json=REQUEST, headers=alice)
        ).status_code == 202
    refused = await client.post(_generate_url(cid), json=REQUEST, headers=alice)
    assert refused.status_code == 429  # and the user's own requests still count
