"""The public REST routes against a fake draft-store: scoping, pass-through errors, parameters."""

from __future__ import annotations

import importlib.metadata
from typing import Any
from uuid import uuid4

import httpx
import pytest
from bcrao_gateway.app import create_app
from bcrao_gateway.store_client import DraftStoreClient, create_http_client
from bcrao_gateway.streaming.hub import TaskHub
from bcrao_gateway.streaming.settings import StreamSettings
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

PROFILE = {"isc_score": 6.4, "avg_sentence_length": 17.3, "formality_level": 7.9}


async def test_campaign_crud_is_scoped_to_the_caller(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    bob: dict[str, str],
    campaign_body: dict[str, Any],
) -> None:
    created = await client.post("/v1/campaigns", json=campaign_body, headers=alice)
    assert created.status_code == 201
    cid = created.json()["id"]
    assert created.json()["user_id"] == "alice"

    assert (await client.get(f"/v1/campaigns/{cid}", headers=alice)).status_code == 200
    other = await client.get(f"/v1/campaigns/{cid}", headers=bob)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "RESOURCE_NOT_FOUND"

    listed = await client.get("/v1/campaigns", headers=alice)
    assert listed.json()["total"] == 1
    assert (await client.get("/v1/campaigns", headers=bob)).json()["total"] == 0

    deleted = await client.delete(f"/v1/campaigns/{cid}", headers=alice)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(f"/v1/campaigns/{cid}", headers=alice)).status_code == 404


async def test_patch_sends_only_the_fields_given(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_body: dict[str, Any]
) -> None:
    body = {**campaign_body, "description": "first"}
    cid = (await client.post("/v1/campaigns", json=body, headers=alice)).json()["id"]
    patched = await client.patch(
        f"/v1/campaigns/{cid}",
        json={"description": None, "target_subreddits": ["r/selfhosted"]},
        headers=alice,
    )
    assert patched.status_code == 200
    assert patched.json()["description"] is None
    assert patched.json()["name"] == campaign_body["name"]
    assert patched.json()["target_subreddits"] == ["selfhosted"]


async def test_profile_put_creates_then_replaces(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_id: str
) -> None:
    url = f"/v1/campaigns/{campaign_id}/profiles/SaaS"
    first = await client.put(url, json=PROFILE, headers=alice)
    assert first.status_code == 201, first.text
    second = await client.put(url, json={**PROFILE, "isc_score": 7.0}, headers=alice)
    assert second.status_code == 200
    assert second.json()["isc_score"] == 7.0
    listed = await client.get(f"/v1/campaigns/{campaign_id}/profiles", headers=alice)
    assert [p["subreddit"] for p in listed.json()["profiles"]] == ["SaaS"]
    one = await client.get(f"/v1/campaigns/{campaign_id}/profiles/SaaS", headers=alice)
    assert one.json()["isc_score"] == 7.0
    missing = await client.get(f"/v1/campaigns/{campaign_id}/profiles/selfhosted", headers=alice)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("subreddit", "body"),
    [("no!", PROFILE), ("SaaS", {**PROFILE, "isc_score": 11}), ("SaaS", {"isc_score": 5})],
)
async def test_profile_validation(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    campaign_id: str,
    subreddit: str,
    body: dict[str, Any],
) -> None:
    url = f"/v1/campaigns/{campaign_id}/profiles/{subreddit}"
    response = await client.put(url, json=body, headers=alice)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_style_guide_key_is_refused_with_the_real_ones_and_the_limits(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_id: str
) -> None:
    """A guessed key (`avoid`) is answered with the keys a style guide has; a list over its
    limits says which limit."""
    url = f"/v1/campaigns/{campaign_id}/profiles/SaaS"
    style = {"avoid": ["synergy"], "words_to_use": ["MRR"] * 51, "loved_tools": ["x" * 301]}
    response = await client.put(url, json={**PROFILE, "style_guide": style}, headers=alice)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["message"] for e in response.json()["error"]["details"]["errors"]}
    assert errors["body.style_guide.avoid"] == (
        "is not a known field; the fields here are voice, words_to_use, words_to_avoid, tone, "
        "taboo_topics, loved_tools, insider_references"
    )
    assert errors["body.style_guide.words_to_use"] == "takes at most 50 entries (51 given)"
    assert errors["body.style_guide.loved_tools.0"] == "takes at most 300 characters"
    top = await client.put(url, json={**PROFILE, "isc": 5}, headers=alice)
    [item] = top.json()["error"]["details"]["errors"]
    assert item["field"] == "body.isc"
    assert item["message"].startswith("is not a known field; the fields here are isc_score, ")

    saved = {"voice": "Founders talking shop", "words_to_avoid": ["synergy", "game-changer"]}
    put = await client.put(url, json={**PROFILE, "style_guide": saved}, headers=alice)
    assert put.status_code in (200, 201), put.text
    got = (await client.get(url, headers=alice)).json()["style_guide"]
    assert {k: got[k] for k in saved} == saved


async def test_blacklist_entries(
    client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str], campaign_id: str
) -> None:
    url = f"/v1/campaigns/{campaign_id}/blacklist"
    bad = {"pattern": "([unclosed", "kind": "regex", "description": "broken"}
    refused = await client.post(url, json=bad, headers=alice)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["errors"][0]["field"] == "body.pattern"
    # Python's re accepts a backreference, RE2 (which runs the patterns) does not: RE2 decides.
    backreference = {**bad, "pattern": r"(spam)\1"}
    refused = await client.post(url, json=backreference, headers=alice)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["errors"][0]["field"] == "body.pattern"

    entry = {"pattern": r"\?utm_", "kind": "regex", "description": "tracking links"}
    created = await client.post(
        url, json={**entry, "subreddit": "r/SaaS", "source": "system"}, headers=alice
    )
    assert created.status_code == 201, created.text
    assert created.json()["subreddit"] == "SaaS"
    assert created.json()["source"] == "user"  # a client cannot pass its entries off as system
    entry_id = created.json()["id"]
    assert len((await client.get(url, headers=alice)).json()["entries"]) == 1

    # Edited in place: the same RE2 check as a new entry, and only by its owner.
    edit = f"/v1/blacklist/{entry_id}"
    refused = await client.patch(edit, json={"kind": "regex", "pattern": r"(x)\1"}, headers=alice)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["errors"][0]["field"] == "body.pattern"
    refused = await client.patch(edit, json={"pattern": "(unclosed"}, headers=alice)  # kept kind
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["errors"][0]["field"] == "pattern"
    foreign = await client.patch(edit, json={"description": "mine now"}, headers=bob)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    edited = await client.patch(
        edit, json={"pattern": r"\?ref=", "severity": "high", "subreddit": None}, headers=alice
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["pattern"], edited.json()["severity"]) == (r"\?ref=", "high")
    assert edited.json()["subreddit"] is None
    assert edited.json()["description"] == "tracking links"
    unknown = await client.patch(edit, json={"source": "system"}, headers=alice)
    assert unknown.status_code == 422  # where an entry came from is not the client's to say

    assert (await client.delete(f"/v1/blacklist/{entry_id}", headers=bob)).status_code == 404
    deleted = await client.delete(f"/v1/blacklist/{entry_id}", headers=alice)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(url, headers=alice)).json()["entries"] == []


async def test_draft_list_passes_statuses_and_paging(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_id: str, fake_store: Any
) -> None:
    fake_store.add_draft("alice", campaign_id, status="approved")
    fake_store.add_draft("alice", campaign_id, status="discarded")
    response = await client.get(
        f"/v1/campaigns/{campaign_id}/drafts",
        params=[("status", "generated,approved"), ("status", "edited"), ("subreddit", "r/SaaS")],
        headers=alice,
    )
    assert response.status_code == 200, response.text
    assert [d["status"] for d in response.json()["drafts"]] == ["approved"]
    sent = fake_store.requests[-1]["params"]
    assert sent.getlist("status") == ["generated", "approved", "edited"]
    assert sent["subreddit"] == "SaaS"
    assert (sent["limit"], sent["offset"]) == ("20", "0")


@pytest.mark.parametrize(
    "params",
    [{"status": "generated,bogus"}, {"limit": "0"}, {"limit": "101"}, {"offset": "-1"}],
)
async def test_draft_list_rejects_bad_parameters(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_id: str, params: dict[str, str]
) -> None:
    url = f"/v1/campaigns/{campaign_id}/drafts"
    response = await client.get(url, params=params, headers=alice)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_draft_read_edit_delete(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    bob: dict[str, str],
    campaign_id: str,
    fake_store: Any,
) -> None:
    draft = fake_store.add_draft("alice", campaign_id)
    url = f"/v1/drafts/{draft['id']}"
    assert (await client.get(url, headers=alice)).json()["title"] == draft["title"]
    assert (await client.get(url, headers=bob)).status_code == 404

    edited = await client.patch(
        url, json={"user_edits": "better", "status": "edited"}, headers=alice
    )
    assert edited.json()["status"] == "edited"
    bad_status = await client.patch(url, json={"status": "published"}, headers=alice)
    assert bad_status.status_code == 422

    fake_store.drafts[draft["id"]]["status"] = "posted"
    conflict = await client.patch(url, json={"status": "discarded"}, headers=alice)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == {
        "code": "CONFLICT",
        "message": "a posted draft cannot be discarded",
        "details": {},
    }
    assert (await client.delete(url, headers=alice)).status_code == 204
    assert (await client.get(url, headers=alice)).status_code == 404


async def test_usage(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await client.get("/v1/usage", headers=alice)
    assert response.status_code == 200
    assert response.json()["drafts_used"] == 0
    assert response.json()["plan"] == "trial"


def _failing_transport(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["refused", "timeout"],
)
async def test_draft_store_down_is_503_with_retry_after(
    settings: Any, publisher: Any, alice: dict[str, str], exc: Exception
) -> None:
    async with create_http_client(settings, transport=_failing_transport(exc)) as http:
        app = create_app(settings, store=DraftStoreClient(http), publisher=publisher)
        async with _client(app) as client:
            response = await client.get("/v1/usage", headers=alice)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "UNAVAILABLE"
            assert response.headers["retry-after"] == "5"
            # Not a readiness matter: taking the gateway out of the balancer would cut its streams.
            app.state.hub = TaskHub(StreamSettings())
            app.state.hub.mark_ready()
            ready = await client.get("/readyz")
            assert ready.status_code == 200
            assert "draft_store" not in ready.json()["checks"]


async def test_an_edit_a_draft_store_release_behind_cannot_make_is_said_plainly(
    settings: Any, publisher: Any, alice: dict[str, str]
) -> None:
    """draft-store 0.2.0 has no PATCH for blacklist entries: it answers 405 (in its envelope, as
    RESOURCE_NOT_FOUND). During a rolling upgrade the client hears 503 with the reason."""

    def release_0_2_0(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "RESOURCE_NOT_FOUND", "message": "Method Not Allowed"}}
        return httpx.Response(405, json=body, headers={"Allow": "DELETE"})

    transport = httpx.MockTransport(release_0_2_0)
    async with create_http_client(settings, transport=transport) as http:
        app = create_app(settings, store=DraftStoreClient(http), publisher=publisher)
        async with _client(app) as client:
            response = await client.patch(
                f"/v1/blacklist/{uuid4()}", json={"severity": "low"}, headers=alice
            )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "UNAVAILABLE"
    assert "newer draft-store" in response.json()["error"]["message"]
    assert response.headers["retry-after"] == "5"


async def test_refused_service_credential_is_not_shown_as_auth_error(
    settings_factory: Any, fake_store: Any, publisher: Any, alice: dict[str, str]
) -> None:
    settings = settings_factory(draft_store_token="a-wrong-service-token")
    transport = httpx.ASGITransport(app=fake_store.app)
    async with create_http_client(settings, transport=transport) as http:
        app = create_app(settings, store=DraftStoreClient(http), publisher=publisher)
        async with _client(app) as client:
            response = await client.get("/v1/usage", headers=alice)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "a-wrong-service-token" not in response.text


async def test_user_ids_are_escaped_in_draft_store_paths(
    client: httpx.AsyncClient, settings: Any, fake_store: Any
) -> None:
    from bcrao_gateway.auth import issue_user_token

    token = issue_user_token(settings, "auth0|user@example.com")
    response = await client.get("/v1/usage", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert fake_store.requests[-1]["raw_path"].startswith(
        b"/internal/users/auth0%7Cuser%40example.com/"
    )


async def test_health_readiness_and_metrics(
    app: FastAPI, client: httpx.AsyncClient, alice: dict[str, str], publisher: Any
) -> None:
    health = (await client.get("/healthz")).json()
    assert health == {"status": "ok", "version": importlib.metadata.version("bcrao-api-gateway")}
    assert app.version == health["version"]
    hub = TaskHub(StreamSettings())
    app.state.hub = hub
    replaying = await client.get("/readyz")
    assert replaying.status_code == 503  # a gateway still replaying recent events is not ready
    assert replaying.json()["error"]["details"]["checks"]["stream_replay"] is False
    hub.mark_ready()
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "kafka_producer": True,
        "stream_replay": True,
        "stream_reader": True,
    }
    publisher.ready = False
    not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["error"]["details"]["checks"]["kafka_producer"] is False

    await client.get("/v1/usage")  # 401
    samples = scrape((await client.get("/metrics")).text)
    assert samples[("http_requests_total", ("GET", "/readyz", "200"))] == 1
    assert samples[("http_requests_total", ("GET", "/readyz", "503"))] == 2
    assert samples[("http_requests_total", ("GET", "/v1/usage", "401"))] == 1
    assert samples[("gateway_stream_open_streams", ())] == 0
    assert samples[("gateway_stream_dropped_slow_clients_total", ())] == 0


def scrape(text: str) -> dict[tuple[str, tuple[str, ...]], float]:
    """Samples by (name, label values without `service`), parsed by prometheus_client."""
    return {
        (sample.name, tuple(v for k, v in sample.labels.items() if k != "service")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isc_score", True),
        ("isc_score", "7"),
        ("formality_level", False),
        ("avg_sentence_length", "17.3"),
        ("sample_size", True),
        ("sample_size", "12"),
        ("sample_size", 12.0),
    ],
)
async def test_numbers_in_bodies_are_json_numbers(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    campaign_id: str,
    fake_store: Any,
    field: str,
    value: Any,
) -> None:
    body = {"isc_score": 7, "avg_sentence_length": 17.3, "formality_level": 8, field: value}
    url = f"/v1/campaigns/{campaign_id}/profiles/SaaS"
    response = await client.put(url, json=body, headers=alice)
    assert response.status_code == 422, response.text
    [error] = response.json()["error"]["details"]["errors"]
    assert error["field"] == f"body.{field}"
    assert fake_store.profiles == {}


async def test_an_integer_is_a_valid_float(
    client: httpx.AsyncClient, alice: dict[str, str], campaign_id: str
) -> None:
    body = {"isc_score": 7, "avg_sentence_length": 17, "formality_level": 8, "sample_size": 40}
    url = f"/v1/campaigns/{campaign_id}/profiles/SaaS"
    response = await client.put(url, json=body, headers=alice)
    assert response.status_code == 201, response.text
    assert response.json()["isc_score"] == 7.0


async def test_a_stream_reader_that_is_not_running_fails_readiness(
    app: FastAPI, client: httpx.AsyncClient, settings: Any
) -> None:
    from bcrao_contracts.topics import Topics
    from bcrao_gateway.streaming.reader import StreamReader

    hub = TaskHub(StreamSettings())
    hub.mark_ready()  # it did replay once: a reader that died later must still fail readiness
    app.state.hub = hub
    app.state.stream_reader = StreamReader("127.0.0.1:1", Topics(""), hub, StreamSettings())
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["error"]["details"]["checks"] == {
        "kafka_producer": True,
        "stream_replay": True,
        "stream_reader": False,
    }
