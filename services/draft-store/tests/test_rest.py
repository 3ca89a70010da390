"""The internal REST contract (docs/INTERNAL_API.md), through the ASGI app without a broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from bcrao_draft_store import ingest
from bcrao_draft_store.app import create_app
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import unit_of_work
from bcrao_stacktest.factories import CAMPAIGN, draft_generated, make_settings
from bcrao_stacktest.factories import SERVICE_TOKEN as TOKEN
from fastapi import FastAPI

PROFILE = {"isc_score": 6.4, "avg_sentence_length": 17.3, "formality_level": 7.9}


def base(user_id: str) -> str:
    return f"/internal/users/{user_id}"


async def _campaign(client: httpx.AsyncClient, user_id: str, **overrides: Any) -> dict[str, Any]:
    response = await client.post(f"{base(user_id)}/campaigns", json={**CAMPAIGN, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


async def _stored_draft(
    client: httpx.AsyncClient, app: FastAPI, user_id: str, campaign_id: str, **body: Any
) -> dict[str, Any]:
    """Open a task over REST and store its draft the way the consumer would."""
    task = await client.post(
        f"{base(user_id)}/campaigns/{campaign_id}/tasks",
        json={"subreddit": "SaaS", "archetype": "Journey", **body},
    )
    assert task.status_code == 201, task.text
    event = draft_generated(uuid.UUID(task.json()["task_id"]), user_id, uuid.UUID(campaign_id))
    async with unit_of_work(app.state.runtime.sessions) as session:
        result = await ingest.store_generated(session, event)
    return result.draft.model_dump(mode="json")


async def test_the_service_credential_is_required(client: httpx.AsyncClient, user_id: str) -> None:
    missing = await client.get(f"{base(user_id)}/campaigns", headers={"Authorization": ""})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "AUTH_REQUIRED"
    wrong = await client.get(
        f"{base(user_id)}/campaigns", headers={"Authorization": "Bearer not-the-token-at-all"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "AUTH_INVALID"
    assert (await client.get("/healthz", headers={"Authorization": ""})).status_code == 200


async def test_during_a_rotation_the_previous_service_token_is_accepted(
    store_database: str, user_id: str
) -> None:
    new_token = "rotated-service-token-" + "r" * 20
    app = create_app(
        make_settings(store_database, service_token=new_token, service_token_previous=TOKEN)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://draft-store") as client:
        for token in (new_token, TOKEN):
            answer = await client.get(
                f"{base(user_id)}/campaigns", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.text
        refused = await client.get(
            f"{base(user_id)}/campaigns", headers={"Authorization": "Bearer " + "z" * 40}
        )
        assert refused.status_code == 401
    await app.state.runtime.engine.dispose()


async def test_campaign_crud_normalises_subreddits(client: httpx.AsyncClient, user_id: str) -> None:
    created = await _campaign(client, user_id)
    assert created["target_subreddits"] == ["SaaS", "freelance", "selfhosted"]
    assert created["status"] == "active"
    url = f"{base(user_id)}/campaigns/{created['id']}"
    patched = await client.patch(url, json={"status": "paused", "description": "d"})
    assert patched.json()["status"] == "paused"
    assert patched.json()["description"] == "d"
    listed = (await client.get(f"{base(user_id)}/campaigns")).json()
    assert listed["total"] == 1
    assert listed["campaigns"][0]["id"] == created["id"]
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404


async def test_another_users_resources_answer_404(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    draft = await _stored_draft(client, app, user_id, campaign["id"])
    other = base("someone-else")
    for path in (
        f"/campaigns/{campaign['id']}",
        f"/campaigns/{campaign['id']}/drafts",
        f"/drafts/{draft['id']}",
        f"/tasks/{draft['task_id']}",
    ):
        response = await client.get(other + path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    deleted = await client.delete(f"{other}/drafts/{draft['id']}")
    assert deleted.status_code == 404
    assert (await client.get(f"{base(user_id)}/drafts/{draft['id']}")).status_code == 200


async def test_validation_errors_use_the_envelope(client: httpx.AsyncClient, user_id: str) -> None:
    response = await client.post(
        f"{base(user_id)}/campaigns", json={"name": "", "product_context": "short"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    fields = {item["field"] for item in error["details"]["errors"]}
    assert {"body.name", "body.product_context", "body.keywords"} <= fields
    assert "Traceback" not in response.text


async def test_profiles_put_creates_then_replaces(client: httpx.AsyncClient, user_id: str) -> None:
    campaign = await _campaign(client, user_id)
    url = f"{base(user_id)}/campaigns/{campaign['id']}/profiles/r/saas"
    first = await client.put(url, json=PROFILE)
    assert first.status_code == 201, first.text
    assert first.json()["subreddit"] == "SaaS"
    assert first.json()["isc_tier"] == "High"
    second = await client.put(url, json={**PROFILE, "isc_score": 8.1})
    assert second.status_code == 200
    assert second.json()["isc_tier"] == "Very High"
    listed = await client.get(f"{base(user_id)}/campaigns/{campaign['id']}/profiles")
    assert [p["isc_score"] for p in listed.json()["profiles"]] == [8.1]
    missing = await client.get(f"{base(user_id)}/campaigns/{campaign['id']}/profiles/freelance")
    assert missing.status_code == 404


async def test_blacklist_scopes_and_global_entries(client: httpx.AsyncClient, user_id: str) -> None:
    campaign = await _campaign(client, user_id)
    url = f"{base(user_id)}/campaigns/{campaign['id']}/blacklist"
    bad = await client.post(url, json={"pattern": "(", "kind": "regex", "description": "x"})
    assert bad.status_code == 422
    made = await client.post(
        url, json={"pattern": "my app", "description": "self", "subreddit": "saas"}
    )
    assert made.status_code == 201
    assert made.json()["subreddit"] == "SaaS"
    entries = (await client.get(url)).json()["entries"]
    global_ids = [e["id"] for e in entries if e["campaign_id"] is None]
    assert len(global_ids) >= 4
    assert any(e["pattern"] == "my app" for e in entries)
    refused = await client.delete(f"{base(user_id)}/blacklist/{global_ids[0]}")
    assert refused.status_code == 404
    assert (
        await client.delete(f"{base(user_id)}/blacklist/{made.json()['id']}")
    ).status_code == 204


async def test_open_task_builds_the_event(client: httpx.AsyncClient, user_id: str) -> None:
    campaign = await _campaign(client, user_id)
    cid = campaign["id"]
    await client.put(f"{base(user_id)}/campaigns/{cid}/profiles/SaaS", json=PROFILE)
    await client.post(
        f"{base(user_id)}/campaigns/{cid}/blacklist",
        json={"pattern": "free trial", "description": "pitch", "subreddit": "freelance"},
    )
    response = await client.post(
        f"{base(user_id)}/campaigns/{cid}/tasks",
        json={"subreddit": "r/saas", "archetype": "Feedback", "context": "late invoices"},
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["event_type"] == "GenerateRequested"
    assert event["producer"] == "api-gateway"
    assert event["subreddit"] == "SaaS"
    assert event["profile"]["isc_score"] == 6.4
    patterns = {entry["pattern"] for entry in event["blacklist"]}
    assert "check out my" in patterns  # global
    assert "free trial" not in patterns  # scoped to another subreddit
    state = await client.get(f"{base(user_id)}/tasks/{event['task_id']}")
    assert state.json()["status"] == "queued"
    usage = (await client.get(f"{base(user_id)}/usage")).json()
    assert (usage["drafts_used"], usage["drafts_limit"], usage["plan"]) == (1, 10, "trial")


async def test_open_task_refusals(client: httpx.AsyncClient, user_id: str) -> None:
    campaign = await _campaign(client, user_id)
    url = f"{base(user_id)}/campaigns/{campaign['id']}/tasks"
    elsewhere = await client.post(url, json={"subreddit": "python", "archetype": "Journey"})
    assert elsewhere.status_code == 422
    await client.patch(f"{base(user_id)}/campaigns/{campaign['id']}", json={"status": "paused"})
    paused = await client.post(url, json={"subreddit": "SaaS", "archetype": "Journey"})
    assert paused.status_code == 409
    assert paused.json()["error"]["details"] == {"campaign_status": "paused"}
    usage = (await client.get(f"{base(user_id)}/usage")).json()
    assert usage["drafts_used"] == 0


async def test_plan_limit_over_rest(client: httpx.AsyncClient, user_id: str) -> None:
    campaign = await _campaign(client, user_id)
    url = f"{base(user_id)}/campaigns/{campaign['id']}/tasks"
    for _ in range(10):
        assert (
            await client.post(url, json={"subreddit": "SaaS", "archetype": "Journey"})
        ).status_code == 201
    refused = await client.post(url, json={"subreddit": "SaaS", "archetype": "Journey"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "PLAN_LIMIT_REACHED"
    assert refused.json()["error"]["details"]["used"] == 10
    upgraded = await client.put(f"{base(user_id)}/plan", json={"plan": "starter"})
    assert upgraded.json()["drafts_limit"] == 50
    assert (
        await client.post(url, json={"subreddit": "SaaS", "archetype": "Journey"})
    ).status_code == 201


async def test_release_gives_the_unit_back(client: httpx.AsyncClient, user_id: str) -> None:
    campaign = await _campaign(client, user_id)
    task = await client.post(
        f"{base(user_id)}/campaigns/{campaign['id']}/tasks",
        json={"subreddit": "SaaS", "archetype": "Journey"},
    )
    url = f"{base(user_id)}/tasks/{task.json()['task_id']}"
    body = {"code": "UNAVAILABLE", "message": "kafka down"}
    assert (await client.post(f"{url}/release", json=body)).status_code == 204
    assert (await client.post(f"{url}/release", json=body)).status_code == 204
    state = (await client.get(url)).json()
    assert (state["status"], state["error_code"]) == ("failed", "UNAVAILABLE")
    assert (await client.get(f"{base(user_id)}/usage")).json()["drafts_used"] == 0


async def test_draft_status_transitions(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    draft = await _stored_draft(client, app, user_id, campaign["id"])
    url = f"{base(user_id)}/drafts/{draft['id']}"
    edited = await client.patch(url, json={"user_edits": "my words"})
    assert (edited.json()["status"], edited.json()["user_edits"]) == ("edited", "my words")
    approved = await client.patch(url, json={"status": "approved"})
    assert (approved.json()["status"], approved.json()["user_edits"]) == ("approved", "my words")
    posted = await client.patch(url, json={"status": "posted"})
    assert posted.json()["status"] == "posted"
    illegal = await client.patch(url, json={"status": "discarded"})
    assert illegal.status_code == 409
    assert illegal.json()["error"] == {
        "code": "CONFLICT",
        "message": "a draft cannot go from posted to discarded",
        "details": {"from": "posted", "to": "discarded"},
    }


async def test_draft_list_filters_and_pages(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    ids = [(await _stored_draft(client, app, user_id, campaign["id"]))["id"] for _ in range(4)]
    approve = {"status": "approved", "confirm_needs_review": True}  # the test drafts need review
    await client.patch(f"{base(user_id)}/drafts/{ids[0]}", json=approve)
    await client.patch(f"{base(user_id)}/drafts/{ids[1]}", json={"status": "discarded"})
    url = f"{base(user_id)}/campaigns/{campaign['id']}/drafts"
    newest = (await client.get(url, params={"limit": 2})).json()
    assert newest["total"] == 4
    assert [d["id"] for d in newest["drafts"]] == [ids[3], ids[2]]
    page2 = (await client.get(url, params={"limit": 2, "offset": 2})).json()
    assert [d["id"] for d in page2["drafts"]] == [ids[1], ids[0]]
    repeated = (
        await client.get(url, params=[("status", "approved"), ("status", "discarded")])
    ).json()
    comma = (await client.get(url, params={"status": "approved,discarded"})).json()
    assert repeated["total"] == comma["total"] == 2
    assert {d["id"] for d in comma["drafts"]} == {ids[0], ids[1]}
    assert (await client.get(url, params={"subreddit": "freelance"})).json()["total"] == 0
    assert (await client.get(url, params={"subreddit": "r/saas"})).json()["total"] == 4
    assert (await client.get(url, params={"status": "bogus"})).status_code == 422
    assert (await client.get(url, params={"limit": 101})).status_code == 422
    assert (await client.get(url, params={"offset": -1})).status_code == 422


async def test_regeneration_carries_the_parent_and_this_rounds_feedback(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    parent = await _stored_draft(client, app, user_id, campaign["id"], context="late invoices")
    response = await client.post(
        f"{base(user_id)}/drafts/{parent['id']}/tasks", json={"feedback": "shorter please"}
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["parent_draft_id"] == parent["id"]
    assert event["feedback"] == "shorter please"
    assert (event["subreddit"], event["archetype"]) == ("SaaS", "Journey")
    assert event["context"] == "chasing invoices"  # the parent's generation_params win
    assert event["parent_draft"] == {
        "title": parent["title"],
        "body": parent["body"],
        "edited": False,
    }
    no_body = await client.post(f"{base(user_id)}/drafts/{parent['id']}/tasks")
    assert no_body.status_code == 201
    assert no_body.json()["feedback"] is None


async def test_a_regeneration_shows_the_model_the_users_edits(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    parent = await _stored_draft(client, app, user_id, campaign["id"])
    edits = {"title": "My edited title", "user_edits": "My edited text.\n\nSecond paragraph."}
    assert (await client.patch(f"{base(user_id)}/drafts/{parent['id']}", json=edits)).is_success
    response = await client.post(
        f"{base(user_id)}/drafts/{parent['id']}/tasks", json={"feedback": "drop the word widget"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["parent_draft"] == {
        "title": "My edited title",
        "body": "My edited text.\n\nSecond paragraph.",
        "edited": True,
    }


async def test_task_state_includes_the_draft(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    draft = await _stored_draft(client, app, user_id, campaign["id"])
    state = (await client.get(f"{base(user_id)}/tasks/{draft['task_id']}")).json()
    assert state["status"] == "completed"
    assert state["terminal_seq"] == 9
    assert state["draft"]["id"] == draft["id"]


async def test_usage_follows_the_injected_clock(settings: Settings, user_id: str) -> None:
    now = [datetime(2025, 1, 31, 23, 59, tzinfo=UTC)]
    app = create_app(settings, clock=lambda: now[0])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:
        campaign = await _campaign(client, user_id)
        url = f"{base(user_id)}/campaigns/{campaign['id']}/tasks"
        await client.post(url, json={"subreddit": "SaaS", "archetype": "Journey"})
        january = (await client.get(f"{base(user_id)}/usage")).json()
        now[0] = datetime(2025, 2, 1, 0, 1, tzinfo=UTC)
        february = (await client.get(f"{base(user_id)}/usage")).json()
    await app.state.runtime.engine.dispose()
    assert (january["drafts_used"], january["resets_at"]) == (1, "2025-02-01T00:00:00Z")
    assert (february["drafts_used"], february["period_start"]) == (0, "2025-02-01T00:00:00Z")


async def test_metrics_and_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    metrics = (await client.get("/metrics")).text
    assert "draft_store_drafts_stored_total" in metrics
    ready = await client.get("/readyz")
    assert ready.status_code == 503  # no broker started without the lifespan
    assert ready.json()["error"]["details"]["database"] is True


async def test_the_campaigns_humanizer_level_reaches_generate_requested(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    default = await _campaign(client, user_id)
    assert default["humanizer_level"] == "light"
    campaign = await _campaign(client, user_id, humanizer_level="casual")
    assert campaign["humanizer_level"] == "casual"
    cid = campaign["id"]
    wrong = await client.patch(f"{base(user_id)}/campaigns/{cid}", json={"humanizer_level": "x"})
    assert wrong.status_code == 422
    tasks = f"{base(user_id)}/campaigns/{cid}/tasks"
    first = await client.post(tasks, json={"subreddit": "SaaS", "archetype": "Journey"})
    assert first.json()["humanizer_level"] == "casual"
    # Changed afterwards: the next generation and a regeneration of an earlier draft use the
    # level as it is now; other fields of the campaign are left alone.
    parent = await _stored_draft(client, app, user_id, cid)
    patched = await client.patch(
        f"{base(user_id)}/campaigns/{cid}", json={"humanizer_level": "off"}
    )
    assert (patched.json()["humanizer_level"], patched.json()["name"]) == ("off", campaign["name"])
    read = await client.get(f"{base(user_id)}/campaigns/{cid}")
    assert read.json()["humanizer_level"] == "off"
    second = await client.post(tasks, json={"subreddit": "SaaS", "archetype": "Journey"})
    assert second.json()["humanizer_level"] == "off"
    again = await client.post(f"{base(user_id)}/drafts/{parent['id']}/tasks")
    assert again.json()["humanizer_level"] == "off"
    untouched = await client.post(
        f"{base(user_id)}/campaigns/{default['id']}/tasks",
        json={"subreddit": "SaaS", "archetype": "Journey"},
    )
    assert untouched.json()["humanizer_level"] == "light"
