"""One contract for the gateway's draft-store fake and the real draft-store.

The route tests use the fake (conftest.FakeDraftStore); these tests hold it to the real service for
every call the gateway relies on: status codes, the error envelope's code and details, and the
GenerateRequested it answers (event_type, producer, the ids the gateway checks). Each test runs
twice: against the fake, and against bcrao_draft_store.app.create_app (a throwaway database,
no lifespan) over ASGITransport. A difference fails one of the two runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from bcrao_contracts.enums import Plan
from bcrao_contracts.events import GenerateRequested
from bcrao_rules.drafts import PLAN_LIMITS
from bcrao_stacktest.inprocess import draft_store_app, internal_client

from .conftest import CAMPAIGN, SERVICE_TOKEN, TRIAL_LIMIT, FakeDraftStore

REQUEST = {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing invoices"}


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.integration)])
async def internal(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """A client of draft-store's internal REST: the fake, or the real app."""
    if request.param == "fake":
        async with internal_client(FakeDraftStore().app, SERVICE_TOKEN) as client:
            yield client
        return
    app = draft_store_app(request.getfixturevalue("store_database"))
    try:
        async with internal_client(app) as client:
            yield client
    finally:
        await app.state.runtime.engine.dispose()


def _user() -> str:
    return f"contract-{uuid4().hex[:10]}"  # a fresh user per test: the real database is shared


async def _campaign(client: httpx.AsyncClient, user: str) -> str:
    response = await client.post(f"/internal/users/{user}/campaigns", json=CAMPAIGN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error.get("details", {}), dict)
    return dict(error.get("details") or {})


def test_the_fake_quota_is_the_trial_plan() -> None:
    assert PLAN_LIMITS[Plan.TRIAL].drafts_per_month == TRIAL_LIMIT


async def test_open_task_answers_the_whole_event_as_the_gateway_relays_it(
    internal: httpx.AsyncClient,
) -> None:
    user = _user()
    cid = await _campaign(internal, user)
    response = await internal.post(f"/internal/users/{user}/campaigns/{cid}/tasks", json=REQUEST)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["event_type"] == "GenerateRequested"
    assert body["schema_version"] == 1
    assert body["producer"] == "api-gateway"  # the gateway publishes these bytes as they are
    event = GenerateRequested.parse(response.content)
    assert (event.user_id, str(event.campaign.id), event.subreddit) == (user, cid, "SaaS")
    assert set(body) >= set(GenerateRequested.model_fields)  # nothing left to a default


async def test_unknown_campaign_and_foreign_user_are_404(internal: httpx.AsyncClient) -> None:
    user = _user()
    cid = await _campaign(internal, user)
    missing = await internal.post(f"/internal/users/{user}/campaigns/{uuid4()}/tasks", json=REQUEST)
    _error(missing, 404, "RESOURCE_NOT_FOUND")
    foreign = await internal.post(f"/internal/users/{_user()}/campaigns/{cid}/tasks", json=REQUEST)
    _error(foreign, 404, "RESOURCE_NOT_FOUND")


async def test_the_quota_refusal_is_403_with_used_limit_and_plan(
    internal: httpx.AsyncClient,
) -> None:
    user = _user()
    cid = await _campaign(internal, user)
    path = f"/internal/users/{user}/campaigns/{cid}/tasks"
    for _ in range(TRIAL_LIMIT):
        assert (await internal.post(path, json=REQUEST)).status_code == 201
    details = _error(await internal.post(path, json=REQUEST), 403, "PLAN_LIMIT_REACHED")
    assert {"used": details.get("used"), "limit": details.get("limit")} == {
        "used": TRIAL_LIMIT,
        "limit": TRIAL_LIMIT,
    }
    assert details.get("plan") == "trial"


async def test_release_fails_a_queued_task_and_is_idempotent(internal: httpx.AsyncClient) -> None:
    user = _user()
    cid = await _campaign(internal, user)
    opened = await internal.post(f"/internal/users/{user}/campaigns/{cid}/tasks", json=REQUEST)
    task_id = opened.json()["task_id"]
    release = f"/internal/users/{user}/tasks/{task_id}/release"
    body = {"code": "UNAVAILABLE", "message": "the generation request could not be queued"}
    assert (await internal.post(release, json=body)).status_code == 204
    state = await internal.get(f"/internal/users/{user}/tasks/{task_id}")
    assert state.status_code == 200
    assert state.json()["status"] == "failed"
    again = await internal.post(release, json=body)  # a retried release is not an error
    assert again.status_code == 204, again.text
    unknown = await internal.post(f"/internal/users/{user}/tasks/{uuid4()}/release", json=body)
    _error(unknown, 404, "RESOURCE_NOT_FOUND")


async def test_a_blacklist_edit_changes_only_what_is_sent_and_checks_the_pattern(
    internal: httpx.AsyncClient,
) -> None:
    user = _user()
    cid = await _campaign(internal, user)
    made = await internal.post(
        f"/internal/users/{user}/campaigns/{cid}/blacklist",
        json={"pattern": "promo", "kind": "literal", "description": "codes"},
    )
    assert made.status_code == 201, made.text
    path = f"/internal/users/{user}/blacklist/{made.json()['id']}"
    edited = await internal.patch(path, json={"kind": "regex", "pattern": r"promo \w+"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["kind"], edited.json()["pattern"]) == ("regex", r"promo \w+")
    assert edited.json()["description"] == "codes"
    refused = await internal.patch(path, json={"pattern": r"(a)\1"})
    details = _error(refused, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in details["errors"]] == ["pattern"]
    foreign = f"/internal/users/{_user()}/blacklist/{made.json()['id']}"
    _error(await internal.patch(foreign, json={}), 404, "RESOURCE_NOT_FOUND")
