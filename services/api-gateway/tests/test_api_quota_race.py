"""The monthly quota and the generation limits through the public API, against the real draft-store.

The gateway runs in-process (create_app, driven through httpx's ASGITransport); the real
draft-store app is served over HTTP on a loopback port by uvicorn (`bcrao_testkit.servers.serve`)
against a fresh PostgreSQL database, so concurrent requests really overlap in draft-store and
contend for the account row lock that makes the quota race-free.

Drafts are "generated" the honest way short of running the generator: the task is opened through
`POST /v1/campaigns/{id}/drafts/generate` (unit reserved by draft-store), and the DraftGenerated or
GenerationFailed event is applied with draft-store's own `ingest` functions (what its Kafka
consumer runs), so the ledger holds real `used` / `released` units.

The publisher is a capturing fake: Kafka is not the subject here, the quota is. It records every
GenerateRequested the gateway publishes (so the test can check exactly the admitted tasks were
published) and can be switched to fail like a broker outage.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

import bcrao_draft_store.app as draft_store_app  # noqa: E402
import bcrao_draft_store.db as draft_store_db  # noqa: E402
import bcrao_draft_store.ingest as draft_store_ingest  # noqa: E402
import bcrao_stacktest.factories as draft_store_testing  # noqa: E402
from bcrao_contracts.events import GenerateRequested  # noqa: E402
from bcrao_gateway.app import create_app  # noqa: E402
from bcrao_gateway.auth import issue_user_token  # noqa: E402
from bcrao_gateway.config import Settings  # noqa: E402
from bcrao_gateway.publisher import PublishError  # noqa: E402
from bcrao_gateway.store_client import DraftStoreClient, create_http_client  # noqa: E402
from bcrao_stacktest.factories import CAMPAIGN  # noqa: E402
from bcrao_testkit.fakes import CapturingPublisher  # noqa: E402
from bcrao_testkit.servers import serve  # noqa: E402
from sqlalchemy import text  # noqa: E402

JWT_SECRET = "quota-race-secret-" + "z" * 32
TRIAL_LIMIT = 10
REQUEST = {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing late invoices"}


# -- fixtures and helpers ---------------------------------------------------------------------


class StoreClock:
    """draft-store's clock (a datetime); frozen unless the test moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class GatewayClock:
    """The gateway limits' monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


class StoreProbe:
    """Wraps the draft-store ASGI app: answers the lifespan itself (no Kafka consumers: events are
    applied by the test through `ingest`) and measures how many task openings overlap."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.opening = 0
        self.max_opening = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        counted = scope["type"] == "http" and scope["path"].endswith("/tasks")
        if counted:
            self.opening += 1
            self.max_opening = max(self.max_opening, self.opening)
        try:
            await self.app(scope, receive, send)
        finally:
            if counted:
                self.opening -= 1


@dataclass
class Stack:
    client: httpx.AsyncClient
    publisher: CapturingPublisher
    settings: Settings
    store_app: Any
    probe: StoreProbe
    store_clock: StoreClock
    gateway_clock: GatewayClock
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def sessions(self) -> Any:
        return self.store_app.state.runtime.sessions

    def auth(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = issue_user_token(self.settings, user, ttl_seconds=3600)
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def campaign(self, user: str) -> str:
        created = await self.client.post("/v1/campaigns", json=CAMPAIGN, headers=self.auth(user))
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    async def generate(self, user: str, campaign_id: str) -> httpx.Response:
        return await self.client.post(
            f"/v1/campaigns/{campaign_id}/drafts/generate", json=REQUEST, headers=self.auth(user)
        )

    def event(self, task_id: str) -> GenerateRequested:
        [event] = [e for e in self.publisher.events if str(e.task_id) == task_id]
        assert isinstance(event, GenerateRequested)
        return event

    async def complete(self, task_id: str) -> str:
        """Apply DraftGenerated for a task as draft-store's consumer would; returns the draft id."""
        event = self.event(task_id)
        generated = draft_store_testing.draft_generated(
            event.task_id, event.user_id, event.campaign.id
        )
        async with draft_store_db.unit_of_work(self.sessions) as session:
            result = await draft_store_ingest.store_generated(session, generated)
        return str(result.draft.id)

    async def fail(self, task_id: str) -> None:
        """Apply GenerationFailed for a task as draft-store's consumer would."""
        event = self.event(task_id)
        failed = draft_store_testing.generation_failed(
            event.task_id, event.user_id, event.campaign.id
        )
        async with draft_store_db.unit_of_work(self.sessions) as session:
            assert await draft_store_ingest.record_failure(session, failed) is True

    async def ledger(self, user: str) -> dict[str, int]:
        """This period's ledger units of a user by state, read straight from PostgreSQL."""
        period = self.store_clock.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        async with draft_store_db.unit_of_work(self.sessions) as session:
            rows = await session.execute(
                text(
                    "SELECT state, count(*) FROM usage_ledger"
                    " WHERE user_id = :user AND period_start = :period GROUP BY state"
                ),
                {"user": user, "period": period},
            )
            return {state: int(count) for state, count in rows}

    async def warm_up(self, user: str, connections: int) -> None:
        """Open `connections` gateway→draft-store connections and database connections at once,
        so a burst that follows is not serialised behind connection set-up (which would let the
        first request finish alone and hide a race)."""
        responses = await asyncio.gather(*(self.usage(user) for _ in range(connections)))
        assert len(responses) == connections

    async def usage(self, user: str) -> dict[str, Any]:
        response = await self.client.get("/v1/usage", headers=self.auth(user))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def open_stack(store_database: str) -> Any:
    @asynccontextmanager
    async def build(
        *, store_clock: StoreClock | None = None, **gateway_overrides: Any
    ) -> AsyncIterator[Stack]:
        store_clock = store_clock or StoreClock()
        store_settings = draft_store_testing.make_settings(store_database, db_pool_size=30)
        store_app = draft_store_app.create_app(store_settings, clock=store_clock)
        probe = StoreProbe(store_app)
        try:
            async with serve(probe) as store_url:
                settings = Settings(
                    jwt_secret=JWT_SECRET,
                    draft_store_token=draft_store_testing.SERVICE_TOKEN,
                    draft_store_url=store_url,
                    **gateway_overrides,
                )
                publisher = CapturingPublisher(PublishError)
                gateway_clock = GatewayClock()
                async with create_http_client(settings) as http:
                    app = create_app(
                        settings,
                        store=DraftStoreClient(http),
                        publisher=publisher,
                        clock=gateway_clock,
                    )
                    async with httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
                    ) as client:
                        yield Stack(
                            client,
                            publisher,
                            settings,
                            store_app,
                            probe,
                            store_clock,
                            gateway_clock,
                        )
        finally:
            await store_app.state.runtime.engine.dispose()

    return build


def new_user() -> str:
    return f"user-{secrets.token_hex(5)}"


def first_instant_of_next_month(now: datetime) -> datetime:
    """Computed here independently of draft-store's calendar code."""
    now = now.astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    assert isinstance(error["details"], dict), error
    details: dict[str, Any] = error["details"]
    return details


def assert_plan_limit(
    response: httpx.Response, *, used: int, limit: int, plan: str, resets_at: datetime
) -> None:
    details = assert_envelope(response, 403, "PLAN_LIMIT_REACHED")
    assert set(details) == {"used", "limit", "plan", "resets_at"}, details
    assert (details["used"], details["limit"], details["plan"]) == (used, limit, plan)
    assert datetime.fromisoformat(details["resets_at"]) == resets_at, details


def assert_rate_limited(response: httpx.Response, reason: str) -> dict[str, Any]:
    details = assert_envelope(response, 429, "RATE_LIMITED")
    assert details["reason"] == reason, details
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60, retry_after
    assert details["retry_after_seconds"] == retry_after
    return details


async def fill_with_drafts(stack: Stack, user: str, campaign_id: str, count: int) -> list[str]:
    """`count` stored drafts this month: each task opened through the API, then completed."""
    drafts = []
    for _ in range(count):
        accepted = await stack.generate(user, campaign_id)
        assert accepted.status_code == 202, accepted.text
        drafts.append(await stack.complete(accepted.json()["task_id"]))
    return drafts


# -- the race ---------------------------------------------------------------------------------


async def test_thirty_concurrent_generates_admit_exactly_the_remaining_three(
    open_stack: Any,
) -> None:
    async with open_stack(generate_rate_per_minute=1000, max_in_flight=1000) as stack:
        user = new_user()
        cid = await stack.campaign(user)
        await fill_with_drafts(stack, user, cid, 7)
        assert await stack.ledger(user) == {"used": 7}
        assert (await stack.usage(user))["drafts_used"] == 7
        await stack.warm_up(user, 30)
        stack.publisher.events.clear()
        stack.probe.max_opening = 0

        responses = await asyncio.gather(*(stack.generate(user, cid) for _ in range(30)))

        statuses = Counter(r.status_code for r in responses)
        assert statuses == {202: 3, 403: 27}, [(r.status_code, r.text) for r in responses]
        # The requests really overlapped in draft-store (otherwise this proves nothing).
        assert stack.probe.max_opening >= 5, stack.probe.max_opening

        resets_at = first_instant_of_next_month(stack.store_clock.now)
        for refused in (r for r in responses if r.status_code == 403):
            assert_plan_limit(refused, used=10, limit=10, plan="trial", resets_at=resets_at)

        accepted = [r.json() for r in responses if r.status_code == 202]
        task_ids = {body["task_id"] for body in accepted}
        assert len(task_ids) == 3
        assert all(body["status"] == "queued" for body in accepted)
        # Exactly the admitted tasks were published, each once.
        assert sorted(str(e.task_id) for e in stack.publisher.events) == sorted(task_ids)

        assert await stack.ledger(user) == {"used": 7, "reserved": 3}
        usage = await stack.usage(user)
        assert (usage["plan"], usage["drafts_used"], usage["drafts_limit"]) == ("trial", 10, 10)
        assert datetime.fromisoformat(usage["resets_at"]) == resets_at

        # Completing the three does not change the count; a 31st request is still refused.
        for task_id in task_ids:
            await stack.complete(task_id)
        assert await stack.ledger(user) == {"used": 10}
        again = await stack.generate(user, cid)
        assert_plan_limit(again, used=10, limit=10, plan="trial", resets_at=resets_at)


async def test_concurrent_regenerates_share_the_same_quota(open_stack: Any) -> None:
    """Regenerations take units from the same ledger: 9 used + 20 concurrent → 1 admitted."""
    async with open_stack(generate_rate_per_minute=1000, max_in_flight=1000) as stack:
        user = new_user()
        cid = await stack.campaign(user)
        [draft_id, *_] = await fill_with_drafts(stack, user, cid, 9)
        url = f"/v1/drafts/{draft_id}/regenerate"
        # Warm the regenerate path once (its unit is given back by a GenerationFailed), so the
        # concurrent requests below arrive together rather than behind a cold first one.
        warm = await stack.client.post(url, headers=stack.auth(user))
        assert warm.status_code == 202, warm.text
        await stack.fail(warm.json()["task_id"])
        await stack.warm_up(user, 20)
        assert (await stack.usage(user))["drafts_used"] == 9
        stack.probe.max_opening = 0
        responses = await asyncio.gather(
            *(
                stack.client.post(url, json={"feedback": "shorter"}, headers=stack.auth(user))
                for _ in range(20)
            )
        )
        assert Counter(r.status_code for r in responses) == {202: 1, 403: 19}
        assert stack.probe.max_opening >= 5, stack.probe.max_opening
        resets_at = first_instant_of_next_month(stack.store_clock.now)
        for refused in (r for r in responses if r.status_code == 403):
            assert_plan_limit(refused, used=10, limit=10, plan="trial", resets_at=resets_at)
        assert await stack.ledger(user) == {"used": 9, "reserved": 1, "released": 1}


# -- the gateway's own limits come first ------------------------------------------------------


async def test_default_in_flight_cap_answers_429_before_the_quota(open_stack: Any) -> None:
    """Default settings: 3 in flight per user. A failed generation frees its place and its unit."""
    async with open_stack() as stack:
        assert (stack.settings.max_in_flight, stack.settings.generate_rate_per_minute) == (3, 10)
        user = new_user()
        cid = await stack.campaign(user)

        responses = await asyncio.gather(*(stack.generate(user, cid) for _ in range(12)))

        assert Counter(r.status_code for r in responses) == {202: 3, 429: 9}
        for refused in (r for r in responses if r.status_code == 429):
            details = assert_rate_limited(refused, "in_flight")
            assert (details["limit"], details["in_flight"]) == (3, 3)
        # Refused requests cost nothing: only the three admitted tasks hold units.
        assert await stack.ledger(user) == {"reserved": 3}
        assert (await stack.usage(user))["drafts_used"] == 3
        accepted = [r.json()["task_id"] for r in responses if r.status_code == 202]

        # One generation fails: its unit comes back and its in-flight place is freed (the gateway
        # asks draft-store about the tasks it still counts when the user is at the cap).
        await stack.fail(accepted[0])
        assert (await stack.usage(user))["drafts_used"] == 2
        assert await stack.ledger(user) == {"reserved": 2, "released": 1}
        retried = await stack.generate(user, cid)
        assert retried.status_code == 202, retried.text
        assert (await stack.usage(user))["drafts_used"] == 3
        assert_rate_limited(await stack.generate(user, cid), "in_flight")


async def test_default_rate_limit_answers_429_before_the_quota(open_stack: Any) -> None:
    """10 generations a minute (default); in-flight raised so the rate alone decides. The trial
    quota is also 10, so the 11th and 12th would be 403 if the quota were checked first."""
    async with open_stack(max_in_flight=100) as stack:
        assert stack.settings.generate_rate_per_minute == 10
        user = new_user()
        cid = await stack.campaign(user)

        responses = await asyncio.gather(*(stack.generate(user, cid) for _ in range(12)))

        assert Counter(r.status_code for r in responses) == {202: 10, 429: 2}
        for refused in (r for r in responses if r.status_code == 429):
            details = assert_rate_limited(refused, "rate")
            assert (details["limit"], details["window_seconds"]) == (10, 60)
        assert await stack.ledger(user) == {"reserved": 10}

        # Still inside the window: the rate limit keeps answering, not the quota.
        stack.gateway_clock.now += 30
        assert_rate_limited(await stack.generate(user, cid), "rate")
        # Once the window has passed, the quota decides.
        stack.gateway_clock.now += 31
        resets_at = first_instant_of_next_month(stack.store_clock.now)
        assert_plan_limit(
            await stack.generate(user, cid), used=10, limit=10, plan="trial", resets_at=resets_at
        )


# -- giving units back, and not ----------------------------------------------------------------


async def test_failed_generation_and_failed_publish_give_the_unit_back(open_stack: Any) -> None:
    async with open_stack(generate_rate_per_minute=1000, max_in_flight=1000) as stack:
        user = new_user()
        cid = await stack.campaign(user)
        await fill_with_drafts(stack, user, cid, 8)
        tasks = []
        for _ in range(2):
            accepted = await stack.generate(user, cid)
            assert accepted.status_code == 202, accepted.text
            tasks.append(accepted.json()["task_id"])
        assert (await stack.usage(user))["drafts_used"] == 10
        assert (await stack.generate(user, cid)).status_code == 403

        # GenerationFailed (as draft-store's consumer applies it) releases the unit.
        await stack.fail(tasks[0])
        assert (await stack.usage(user))["drafts_used"] == 9
        assert await stack.ledger(user) == {"used": 8, "reserved": 1, "released": 1}

        # A publish failure: the gateway answers 503 and releases the task it opened.
        stack.publisher.fail = True
        outage = await stack.generate(user, cid)
        assert_envelope(outage, 503, "UNAVAILABLE")
        assert outage.headers["Retry-After"]
        assert (await stack.usage(user))["drafts_used"] == 9
        assert await stack.ledger(user) == {"used": 8, "reserved": 1, "released": 2}

        stack.publisher.fail = False
        last = await stack.generate(user, cid)
        assert last.status_code == 202, last.text
        assert (await stack.usage(user))["drafts_used"] == 10
        resets_at = first_instant_of_next_month(stack.store_clock.now)
        assert_plan_limit(
            await stack.generate(user, cid), used=10, limit=10, plan="trial", resets_at=resets_at
        )


async def test_discard_and_delete_do_not_give_the_unit_back(open_stack: Any) -> None:
    async with open_stack(generate_rate_per_minute=1000, max_in_flight=1000) as stack:
        user = new_user()
        cid = await stack.campaign(user)
        kept, deleted = await fill_with_drafts(stack, user, cid, 2)
        auth = stack.auth(user)
        patched = await stack.client.patch(
            f"/v1/drafts/{kept}", json={"status": "discarded"}, headers=auth
        )
        assert patched.status_code == 200, patched.text
        assert (await stack.client.delete(f"/v1/drafts/{deleted}", headers=auth)).status_code == 204
        assert (await stack.client.delete(f"/v1/campaigns/{cid}", headers=auth)).status_code == 204
        assert (await stack.usage(user))["drafts_used"] == 2
        assert await stack.ledger(user) == {"used": 2}


# -- the calendar month -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_instant", "next_start"),
    [
        (datetime(2031, 1, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(2031, 2, 1, tzinfo=UTC)),
        (datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC)),
        (datetime(2032, 2, 29, 12, 0, tzinfo=UTC), datetime(2032, 3, 1, tzinfo=UTC)),
    ],
    ids=["january", "new-year", "leap-february"],
)
async def test_month_rollover_resets_the_quota(
    open_stack: Any, last_instant: datetime, next_start: datetime
) -> None:
    clock = StoreClock(last_instant)
    async with open_stack(
        store_clock=clock, generate_rate_per_minute=1000, max_in_flight=1000
    ) as stack:
        user = new_user()
        cid = await stack.campaign(user)
        await fill_with_drafts(stack, user, cid, 6)
        for _ in range(4):
            assert (await stack.generate(user, cid)).status_code == 202
        assert_plan_limit(
            await stack.generate(user, cid), used=10, limit=10, plan="trial", resets_at=next_start
        )
        usage = await stack.usage(user)
        assert datetime.fromisoformat(usage["resets_at"]) == next_start
        assert datetime.fromisoformat(usage["period_start"]) == last_instant.replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )

        clock.now = next_start  # the first instant of the next month
        usage = await stack.usage(user)
        assert usage["drafts_used"] == 0
        assert datetime.fromisoformat(usage["period_start"]) == next_start
        following = first_instant_of_next_month(next_start)
        assert datetime.fromisoformat(usage["resets_at"]) == following

        responses = await asyncio.gather(*(stack.generate(user, cid) for _ in range(12)))
        assert Counter(r.status_code for r in responses) == {202: 10, 403: 2}
        for refused in (r for r in responses if r.status_code == 403):
            assert_plan_limit(refused, used=10, limit=10, plan="trial", resets_at=following)
        assert await stack.ledger(user) == {"reserved": 10}

        # The previous month's units are still in the ledger, untouched.
        clock.now = last_instant
        assert (await stack.usage(user))["drafts_used"] == 10
        assert await stack.ledger(user) == {"used": 6, "reserved": 4}


def test_first_instant_of_next_month_helper() -> None:
    """The test's own calendar arithmetic (the expected values above depend on it)."""
    assert first_instant_of_next_month(datetime(2030, 12, 31, 23, 59, tzinfo=UTC)) == datetime(
        2031, 1, 1, tzinfo=UTC
    )
    assert first_instant_of_next_month(
        datetime(2031, 3, 1, 0, 30, tzinfo=UTC).astimezone(UTC) - timedelta(hours=1)
    ) == datetime(2031, 3, 1, tzinfo=UTC)
