"""Idempotency-Key on task openings (ADR 0010), over the internal REST against real PostgreSQL:
one key, one task and one unit; the same key with another request is a 422; concurrent openings
with one key open one task; keys are the user's own; a release gives the key back."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from bcrao_draft_store import ingest
from bcrao_draft_store.db import unit_of_work
from bcrao_draft_store.models import GenerationTask
from bcrao_stacktest.factories import CAMPAIGN, draft_generated
from fastapi import FastAPI
from sqlalchemy import func, select

pytestmark = pytest.mark.integration

REQUEST = {"subreddit": "SaaS", "archetype": "Journey", "context": "chasing late invoices"}


def base(user_id: str) -> str:
    return f"/internal/users/{user_id}"


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def _campaign(client: httpx.AsyncClient, user_id: str) -> str:
    response = await client.post(f"{base(user_id)}/campaigns", json=CAMPAIGN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _used(client: httpx.AsyncClient, user_id: str) -> int:
    return int((await client.get(f"{base(user_id)}/usage")).json()["drafts_used"])


async def _tasks(app: FastAPI, user_id: str) -> int:
    async with unit_of_work(app.state.runtime.sessions) as session:
        query = select(func.count()).where(GenerationTask.user_id == user_id)
        return int(await session.scalar(query) or 0)


async def _open(
    client: httpx.AsyncClient, user_id: str, cid: str, key: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"{base(user_id)}/campaigns/{cid}/tasks", json={**REQUEST, **body}, headers=keyed(key)
    )


async def test_the_same_key_twice_is_one_task_and_one_unit(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    key = str(uuid.uuid4())
    first = await _open(client, user_id, cid, key)
    assert first.status_code == 201, first.text
    assert "Task-Status" not in first.headers
    again = await _open(client, user_id, cid, key)
    assert again.status_code == 200, again.text
    assert again.headers["Task-Status"] == "queued"
    replayed = again.json()
    assert replayed["task_id"] == first.json()["task_id"]
    for field in ("user_id", "plan", "subreddit", "archetype", "account_status", "context"):
        assert replayed[field] == first.json()[field], field
    assert replayed["campaign"]["id"] == cid
    assert await _used(client, user_id) == 1
    assert await _tasks(app, user_id) == 1
    metrics = (await client.get("/metrics")).text
    assert "draft_store_tasks_replayed_total 1.0" in metrics

    # Once the draft is stored, the key still answers the same task, now completed.
    generated = draft_generated(uuid.UUID(replayed["task_id"]), user_id, uuid.UUID(cid))
    async with unit_of_work(app.state.runtime.sessions) as session:
        await ingest.store_generated(session, generated)
    done = await _open(client, user_id, cid, key)
    assert (done.status_code, done.headers["Task-Status"]) == (200, "completed")
    assert done.json()["task_id"] == replayed["task_id"]
    assert await _used(client, user_id) == 1


async def test_an_empty_context_is_one_request_whatever_topic_it_became(
    client: httpx.AsyncClient, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    first = await _open(client, user_id, cid, "empty-context", context="")
    again = await _open(client, user_id, cid, "empty-context", context="")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["context"] == first.json()["context"] != ""


async def test_the_same_key_with_another_request_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    other_cid = await _campaign(client, user_id)
    assert (await _open(client, user_id, cid, "k-1")).status_code == 201
    for different in (
        _open(client, user_id, cid, "k-1", archetype="Feedback"),
        _open(client, user_id, other_cid, "k-1"),  # another target
    ):
        answer = await different
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"] == {"reason": "idempotency_key_reused"}
    assert await _used(client, user_id) == 1
    assert await _tasks(app, user_id) == 1


async def test_concurrent_openings_with_one_key_open_one_task(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    answers = await asyncio.gather(*(_open(client, user_id, cid, "raced") for _ in range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 7 + [201], [a.text for a in answers]
    assert len({a.json()["task_id"] for a in answers}) == 1
    assert await _used(client, user_id) == 1
    assert await _tasks(app, user_id) == 1


async def test_another_users_same_key_is_theirs(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    other = user_id + "-other"
    mine, theirs = await _campaign(client, user_id), await _campaign(client, other)
    first = await _open(client, user_id, mine, "shared-key")
    second = await _open(client, other, theirs, "shared-key")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["task_id"] != second.json()["task_id"]
    assert second.json()["user_id"] == other
    # A key names its user's task only: the other user on my campaign meets their own key
    # (used for another request), or with a new key my campaign is not found for them.
    assert (await _open(client, other, mine, "shared-key")).status_code == 422
    assert (await _open(client, other, mine, "another-key")).status_code == 404
    assert (await _used(client, user_id), await _used(client, other)) == (1, 1)


async def test_a_replay_is_answered_even_when_a_new_opening_would_be_refused(
    client: httpx.AsyncClient, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    first = await _open(client, user_id, cid, "before-pause")
    paused = await client.patch(f"{base(user_id)}/campaigns/{cid}", json={"status": "paused"})
    assert paused.status_code == 200, paused.text
    assert (await _open(client, user_id, cid, "after-pause")).status_code == 409
    again = await _open(client, user_id, cid, "before-pause")
    assert again.status_code == 200, again.text
    assert again.json()["task_id"] == first.json()["task_id"]


async def test_a_release_gives_the_key_back_for_a_new_attempt(
    client: httpx.AsyncClient, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    first = await _open(client, user_id, cid, "after-503")
    task_id = first.json()["task_id"]
    released = await client.post(
        f"{base(user_id)}/tasks/{task_id}/release",
        json={"code": "UNAVAILABLE", "message": "not queued"},
    )
    assert released.status_code == 204
    retry = await _open(client, user_id, cid, "after-503")
    assert retry.status_code == 201, retry.text
    assert retry.json()["task_id"] != task_id
    assert await _used(client, user_id) == 1


async def test_replay_only_never_opens(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    url = f"{base(user_id)}/campaigns/{cid}/tasks/replay"
    missing = await client.post(url, json=REQUEST, headers=keyed("unknown"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    no_key = await client.post(url, json=REQUEST)
    assert no_key.status_code == 422
    assert await _tasks(app, user_id) == 0
    first = await _open(client, user_id, cid, "known")
    found = await client.post(url, json=REQUEST, headers=keyed("known"))
    assert (found.status_code, found.headers["Task-Status"]) == (200, "queued")
    assert found.json()["task_id"] == first.json()["task_id"]
    assert await _used(client, user_id) == 1


async def test_regenerations_replay_by_key(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    task = (await _open(client, user_id, cid, "parent")).json()
    generated = draft_generated(uuid.UUID(task["task_id"]), user_id, uuid.UUID(cid))
    async with unit_of_work(app.state.runtime.sessions) as session:
        parent = (await ingest.store_generated(session, generated)).draft
    url = f"{base(user_id)}/drafts/{parent.id}/tasks"
    body = {"feedback": "shorter please"}
    first = await client.post(url, json=body, headers=keyed("regen"))
    again = await client.post(url, json=body, headers=keyed("regen"))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["task_id"] == first.json()["task_id"]
    assert again.json()["parent_draft_id"] == str(parent.id)
    assert again.json()["feedback"] == "shorter please"
    assert again.json()["parent_draft"] == first.json()["parent_draft"]
    other = await client.post(url, json={"feedback": "longer"}, headers=keyed("regen"))
    assert other.status_code == 422
    # The generate key and the regenerate key are one namespace: another endpoint is a 422.
    assert (await _open(client, user_id, cid, "regen")).status_code == 422
    assert await _used(client, user_id) == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9", '"quoted"', "a\\b"])
async def test_a_malformed_key_is_a_422(client: httpx.AsyncClient, user_id: str, key: str) -> None:
    cid = await _campaign(client, user_id)
    answer = await client.post(
        f"{base(user_id)}/campaigns/{cid}/tasks",
        json=REQUEST,
        headers={"Idempotency-Key": key.encode()},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert await _used(client, user_id) == 0
