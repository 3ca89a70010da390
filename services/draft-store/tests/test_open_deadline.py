"""A task opening that cannot finish before the gateway gives up is undone, not committed late
(ADR 0009): the account row it must lock is held by another transaction past
DRAFT_STORE_OPEN_TASK_SECONDS, so the opening is cancelled by PostgreSQL and answered 503, and
once the lock goes away no task and no reserved unit exist for it."""

from __future__ import annotations

import httpx
import pytest
from bcrao_draft_store.app import create_app
from bcrao_stacktest.factories import CAMPAIGN, SERVICE_TOKEN, make_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration


async def test_an_opening_past_its_deadline_answers_503_and_leaves_nothing(
    store_database: str, engine: AsyncEngine, user_id: str
) -> None:
    app = create_app(make_settings(store_database, open_task_seconds=0.5))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://draft-store", headers=headers
    ) as client:
        base = f"/internal/users/{user_id}"
        campaign = (await client.post(f"{base}/campaigns", json=CAMPAIGN)).json()
        url = f"{base}/campaigns/{campaign['id']}/tasks"
        body = {"subreddit": "SaaS", "archetype": "Journey"}
        async with engine.connect() as holder:
            await holder.execute(
                text(
                    "INSERT INTO accounts (user_id, plan, created_at, updated_at) "
                    "VALUES (:u, 'trial', now(), now()) ON CONFLICT (user_id) DO NOTHING"
                ),
                {"u": user_id},
            )
            await holder.commit()
            await holder.execute(
                text("SELECT 1 FROM accounts WHERE user_id = :u FOR UPDATE"), {"u": user_id}
            )
            refused = await client.post(url, json=body)  # waits on the lock past its deadline
            await holder.rollback()
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "UNAVAILABLE"
        async with engine.connect() as check:
            tasks = await check.scalar(
                text("SELECT count(*) FROM generation_tasks WHERE user_id = :u"), {"u": user_id}
            )
            units = await check.scalar(
                text("SELECT count(*) FROM usage_ledger WHERE user_id = :u"), {"u": user_id}
            )
        assert (tasks, units) == (0, 0)
        accepted = await client.post(url, json=body)  # nothing held: the next one goes through
        assert accepted.status_code == 201, accepted.text
    await app.state.runtime.engine.dispose()
