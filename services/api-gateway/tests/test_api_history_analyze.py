"""History, edit checks and profile analysis through the public API, against the real draft-store
(in-process over ASGITransport) and PostgreSQL. The publisher is a capturing fake: Kafka is not
the subject; drafts are stored with draft-store's own ingest step, as its consumer would."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

import bcrao_stacktest.factories as draft_store_testing  # noqa: E402
from bcrao_stacktest.inprocess import (  # noqa: E402
    GatewayOverStore,
    gateway_over_draft_store,
    gateway_settings,
)

JWT_SECRET = "history-secret-" + "h" * 40
FIXTURES = Path(__file__).parents[3] / "libs" / "rules" / "tests" / "fixtures"
REQUEST = {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing late invoices"}


Api = GatewayOverStore


@pytest.fixture(scope="module")
async def api(store_database: str) -> AsyncIterator[Api]:
    settings = gateway_settings(jwt_secret=JWT_SECRET, generate_rate_per_minute=1000)
    async with gateway_over_draft_store(store_database, settings) as stack:
        yield stack


async def _campaign(api: Api, who: dict[str, str]) -> str:
    response = await api.client.post(
        "/v1/campaigns", json=draft_store_testing.CAMPAIGN, headers=who
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _draft(api: Api, who: dict[str, str]) -> dict[str, Any]:
    cid = await _campaign(api, who)
    accepted = await api.client.post(
        f"/v1/campaigns/{cid}/drafts/generate", json=REQUEST, headers=who
    )
    assert accepted.status_code == 202, accepted.text
    stored = await api.store_draft(api.publisher.events[-1])
    return stored.model_dump(mode="json")


async def test_edit_confirm_and_history_through_the_gateway(api: Api) -> None:
    alice = api.fresh_user()
    draft = await _draft(api, alice)  # the test draft's generated report needs review
    url = f"/v1/drafts/{draft['id']}"
    edit = {"title": "My own title", "user_edits": "Use my code REDDIT20 at my site."}
    saved = await api.client.patch(url, json=edit, headers=alice)
    assert saved.status_code == 200, saved.text
    assert saved.json()["user_title"] == "My own title"
    assert saved.json()["edit_report"]["validation"]["needs_review"] is True  # "use my code"
    refused = await api.client.patch(url, json={"status": "approved"}, headers=alice)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["reason"] == "needs_review"
    approve = {"status": "approved", "confirm_needs_review": True}
    assert (await api.client.patch(url, json=approve, headers=alice)).status_code == 200

    history = await api.client.get(f"{url}/history", headers=alice)
    assert history.status_code == 200, history.text
    entries = history.json()["entries"]
    assert [e["action"] for e in entries] == ["generated", "edited", "status_changed"]
    assert entries[-1]["confirmed_needs_review"] is True
    assert {c["field"] for c in entries[1]["changes"]} == {"title", "user_edits"}


async def test_another_users_history_is_a_404_like_a_missing_draft(api: Api) -> None:
    alice, bob = api.fresh_user(), api.fresh_user()
    draft = await _draft(api, alice)
    theirs = await api.client.get(f"/v1/drafts/{draft['id']}/history", headers=bob)
    missing = await api.client.get(f"/v1/drafts/{uuid.uuid4()}/history", headers=bob)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert theirs.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


@pytest.mark.parametrize("fixture", ["pasted_posts.json", "reddit_listing.json"])
async def test_analyze_through_the_gateway(api: Api, fixture: str) -> None:
    alice = api.fresh_user()
    cid = await _campaign(api, alice)
    payload = json.loads((FIXTURES / fixture).read_text())
    response = await api.client.post(
        f"/v1/campaigns/{cid}/profiles/freelance/analyze", json=payload, headers=alice
    )
    assert response.status_code == 200, response.text
    proposal = response.json()
    assert (proposal["subreddit"], proposal["isc"]["value"]) == ("freelance", 9.0)
    saved = await api.client.put(
        f"/v1/campaigns/{cid}/profiles/freelance", json=proposal["profile"], headers=alice
    )
    assert saved.status_code == 201, saved.text


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"posts": []}, "no posts were found"),
        ({"hello": "world"}, "paste the posts' text"),
        ([1, 2, 3], "paste the posts' text"),
    ],
)
async def test_analyze_refusals_are_clear_422s(api: Api, payload: Any, message: str) -> None:
    alice = api.fresh_user()
    cid = await _campaign(api, alice)
    response = await api.client.post(
        f"/v1/campaigns/{cid}/profiles/SaaS/analyze", json=payload, headers=alice
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert message in response.json()["error"]["message"]


async def test_analyze_on_another_users_campaign_is_a_404(api: Api) -> None:
    alice, bob = api.fresh_user(), api.fresh_user()
    cid = await _campaign(api, alice)
    payload = json.loads((FIXTURES / "pasted_posts.json").read_text())
    response = await api.client.post(
        f"/v1/campaigns/{cid}/profiles/SaaS/analyze", json=payload, headers=bob
    )
    assert response.status_code == 404
