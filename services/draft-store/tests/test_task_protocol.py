"""The task protocol through the REST app: claims, releases, tombstones and campaign deletes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from bcrao_draft_store import ingest
from bcrao_draft_store.db import unit_of_work
from bcrao_stacktest.factories import CAMPAIGN, draft_generated, generation_failed
from fastapi import FastAPI
from sqlalchemy import text


def base(user_id: str) -> str:
    return f"/internal/users/{user_id}"


class Tasks:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI, user_id: str) -> None:
        self.client, self.app, self.user_id = client, app, user_id

    async def campaign(self) -> str:
        created = await self.client.post(f"{base(self.user_id)}/campaigns", json=CAMPAIGN)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    async def open(self, campaign_id: str) -> str:
        opened = await self.client.post(
            f"{base(self.user_id)}/campaigns/{campaign_id}/tasks",
            json={"subreddit": "SaaS", "archetype": "Journey"},
        )
        assert opened.status_code == 201, opened.text
        return str(opened.json()["task_id"])

    async def claim(self, task_id: str, user_id: str | None = None) -> httpx.Response:
        body = {"user_id": user_id or self.user_id, "attempt_id": str(uuid.uuid4())}
        return await self.client.post(f"/internal/tasks/{task_id}/claim", json=body)

    async def release(self, task_id: str) -> httpx.Response:
        body = {"code": "UNAVAILABLE", "message": "the publish outcome is unknown"}
        return await self.client.post(f"{base(self.user_id)}/tasks/{task_id}/release", json=body)

    async def state(self, task_id: str) -> httpx.Response:
        return await self.client.get(f"{base(self.user_id)}/tasks/{task_id}")

    async def store(self, task_id: str, campaign_id: str) -> ingest.Stored:
        event = draft_generated(uuid.UUID(task_id), self.user_id, uuid.UUID(campaign_id))
        async with unit_of_work(self.app.state.runtime.sessions) as session:
            return await ingest.store_generated(session, event)

    async def fail(self, task_id: str, campaign_id: str) -> bool:
        event = generation_failed(uuid.UUID(task_id), self.user_id, uuid.UUID(campaign_id))
        async with unit_of_work(self.app.state.runtime.sessions) as session:
            return await ingest.record_failure(session, event)

    async def ledger(self) -> dict[str, int]:
        async with self.app.state.runtime.sessions() as session:
            rows = await session.execute(
                text("SELECT state, count(*) FROM usage_ledger WHERE user_id = :u GROUP BY state"),
                {"u": self.user_id},
            )
            return {state: int(n) for state, n in rows}


@pytest.fixture
def t(client: httpx.AsyncClient, app: FastAPI, user_id: str) -> Tasks:
    return Tasks(client, app, user_id)


def conflict_status(response: httpx.Response) -> Any:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    return error["details"]["status"]


async def test_a_claim_moves_queued_to_running_and_a_redelivery_claims_again(t: Tasks) -> None:
    task_id = await t.open(await t.campaign())
    first = await t.claim(task_id)
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "running", "claimed": True}
    assert (await t.state(task_id)).json()["status"] == "running"
    again = await t.claim(task_id)  # a redelivery after a crash: generate again
    assert (again.status_code, again.json()["claimed"]) == (200, True)


async def test_an_ended_task_cannot_be_claimed(t: Tasks) -> None:
    campaign_id = await t.campaign()
    done, failed = await t.open(campaign_id), await t.open(campaign_id)
    await t.store(done, campaign_id)
    assert await t.fail(failed, campaign_id) is True
    assert conflict_status(await t.claim(done)) == "completed"
    assert conflict_status(await t.claim(failed)) == "failed"


async def test_an_unknown_or_foreign_task_is_not_found(t: Tasks) -> None:
    task_id = await t.open(await t.campaign())
    assert (await t.claim(str(uuid.uuid4()))).status_code == 404
    foreign = await t.claim(task_id, user_id="someone-else")
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert (await t.state(task_id)).json()["status"] == "queued"


async def test_a_claim_needs_the_service_credential(t: Tasks) -> None:
    task_id = await t.open(await t.campaign())
    body = {"user_id": t.user_id, "attempt_id": str(uuid.uuid4())}
    refused = await t.client.post(
        f"/internal/tasks/{task_id}/claim", json=body, headers={"Authorization": ""}
    )
    assert refused.status_code == 401


async def test_release_answers_409_once_the_generator_has_the_task(t: Tasks) -> None:
    campaign_id = await t.campaign()
    running, done, queued = [await t.open(campaign_id) for _ in range(3)]
    assert (await t.claim(running)).status_code == 200
    await t.store(done, campaign_id)
    assert conflict_status(await t.release(running)) == "running"
    assert conflict_status(await t.release(done)) == "completed"
    assert (await t.release(queued)).status_code == 204
    assert (await t.release(queued)).status_code == 204  # idempotent for a failed task
    # A released task is never generated later: its claim says it failed.
    assert conflict_status(await t.claim(queued)) == "failed"
    assert await t.ledger() == {"reserved": 1, "used": 1, "released": 1}


async def test_a_deleted_draft_never_comes_back(t: Tasks) -> None:
    campaign_id = await t.campaign()
    task_id = await t.open(campaign_id)
    stored = await t.store(task_id, campaign_id)
    deleted = await t.client.delete(f"{base(t.user_id)}/drafts/{stored.draft.id}")
    assert deleted.status_code == 204
    with pytest.raises(ingest.Discarded, match="draft_deleted"):
        await t.store(task_id, campaign_id)  # the redelivered DraftGenerated
    drafts = await t.client.get(f"{base(t.user_id)}/campaigns/{campaign_id}/drafts")
    assert drafts.json()["total"] == 0
    assert await t.ledger() == {"used": 1}  # deleting a draft refunds nothing


async def test_deleting_a_campaign_ends_its_tasks_in_flight_and_refunds_them(t: Tasks) -> None:
    campaign_id = await t.campaign()
    done, running, queued = [await t.open(campaign_id) for _ in range(3)]
    await t.store(done, campaign_id)
    assert (await t.claim(running)).status_code == 200
    deleted = await t.client.delete(f"{base(t.user_id)}/campaigns/{campaign_id}")
    assert deleted.status_code == 204
    assert await t.ledger() == {"used": 1, "released": 2}
    # Late events for any of its tasks are acknowledged and dropped, not dead-lettered.
    for task_id in (done, running, queued):
        with pytest.raises(ingest.Discarded, match="campaign_deleted"):
            await t.store(task_id, campaign_id)
        with pytest.raises(ingest.Discarded, match="campaign_deleted"):
            await t.fail(task_id, campaign_id)
        assert (await t.claim(task_id)).status_code == 404
    assert await t.ledger() == {"used": 1, "released": 2}
    async with t.app.state.runtime.sessions() as session:
        pending = await session.execute(
            text(
                "SELECT task_id::text FROM task_tombstones"
                " WHERE campaign_id = :c AND in_flight AND announced_at IS NULL"
            ),
            {"c": campaign_id},
        )
        assert sorted(row[0] for row in pending) == sorted([running, queued])


async def test_an_unknown_task_is_still_refused(t: Tasks) -> None:
    campaign_id = await t.campaign()
    with pytest.raises(ingest.Unprocessable, match="no generation task"):
        await t.store(str(uuid.uuid4()), campaign_id)
