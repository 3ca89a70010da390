"""Gateway test fixtures: explicit settings, a fake draft-store speaking the internal REST of
docs/INTERNAL_API.md (an in-process FastAPI app behind httpx's ASGITransport), a fake publisher
and a hand-driven clock. The tests that run the gateway over the real draft-store (the API,
tenancy, quota and integration suites) take `store_database` and bcrao_stacktest.inprocess; the
fake is held to the real service by test_draft_store_contract.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from bcrao_contracts import demo
from bcrao_contracts.enums import BlacklistKind, ErrorCode, Plan
from bcrao_contracts.errors import envelope
from bcrao_contracts.events import GenerateRequested
from bcrao_gateway.app import create_app
from bcrao_gateway.auth import issue_user_token
from bcrao_gateway.config import Settings
from bcrao_gateway.publisher import KafkaPublisher, PublishError
from bcrao_gateway.store_client import DraftStoreClient, create_http_client
from bcrao_rules.blacklist import pattern_problem
from bcrao_stacktest.inprocess import draft_store_database
from bcrao_testkit.fakes import CapturingPublisher as FakePublisher
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

JWT_SECRET = "test-secret-" + "k" * 40
SERVICE_TOKEN = "service-token-for-tests"
TRIAL_LIMIT = 10


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _error(status: int, code: ErrorCode, message: str, details: dict[str, Any] | None = None):
    return JSONResponse(envelope(code, message, details), status_code=status)


def make_draft(user_id: str, campaign_id: UUID, **overrides: Any) -> dict[str, Any]:
    draft = {
        "id": str(uuid4()),
        "task_id": str(uuid4()),
        "campaign_id": str(campaign_id),
        "user_id": user_id,
        "subreddit": "SaaS",
        "archetype": "Feedback",
        "account_status": "Established",
        "title": "What would you cut?",
        "body": "I keep chasing late invoices.\n\nHow do you handle it?",
        "scores": {
            "vulnerability": 5,
            "rhythm_match": 7,
            "formality_match": 8,
            "burstiness": 5,
            "jargon_penalty": 0,
            "link_penalty": 0,
            "overall": 6.1,
        },
        "validation": {},
        "model_used": "offline-composer",
        "generation_params": demo.generation_params(campaign_id).model_dump(mode="json"),
        "status": "generated",
        "created_at": _now(),
        "updated_at": _now(),
    }
    return {**draft, **overrides}


class FakeDraftStore:
    """Small, honest stand-in: scoping by user, 404 for others' data, quota, task release."""

    def __init__(self) -> None:
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.drafts: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.blacklist: dict[str, dict[str, Any]] = {}
        self.released: list[dict[str, Any]] = []
        self.limit = TRIAL_LIMIT
        self.requests: list[dict[str, Any]] = []  # raw_path and query params, as received
        # Fields a newer draft-store adds to GenerateRequested, and the bodies it answered.
        self.extra_event_fields: dict[str, Any] = {}
        self.answered_events: list[bytes] = []
        self.app = self._build()

    def add_draft(self, user_id: str, campaign_id: str, **overrides: Any) -> dict[str, Any]:
        draft = make_draft(user_id, UUID(campaign_id), **overrides)
        self.drafts[draft["id"]] = draft
        return draft

    def reserved(self, user_id: str) -> int:
        return sum(1 for t in self.tasks.values() if t["user_id"] == user_id and t["unit"])

    def _campaign(self, user_id: str, cid: str) -> dict[str, Any] | None:
        campaign = self.campaigns.get(cid)
        return campaign if campaign and campaign["user_id"] == user_id else None

    def _event(self, user_id: str, campaign: dict[str, Any], body: dict[str, Any]) -> Any:
        if self.reserved(user_id) >= self.limit:
            details = {"used": self.limit, "limit": self.limit, "plan": "trial"}
            return _error(403, ErrorCode.PLAN_LIMIT_REACHED, "monthly drafts used up", details)
        task_id = str(uuid4())
        self.tasks[task_id] = {
            "user_id": user_id,
            "campaign_id": campaign["id"],
            "status": "queued",
            "unit": True,
        }
        # Built as the real draft-store builds it (generation_tasks.py): the whole contract, every
        # default filled in, producer api-gateway (the gateway relays these bytes unchanged).
        event = {
            "task_id": task_id,
            "producer": "api-gateway",
            "user_id": user_id,
            "plan": Plan.TRIAL.value,
            "campaign": {
                "id": campaign["id"],
                "name": campaign["name"],
                "product_context": campaign["product_context"],
                "keywords": campaign["keywords"],
            },
            **body,
        }
        built = GenerateRequested.parse(event).model_dump(mode="json")
        response = JSONResponse({**built, **self.extra_event_fields}, status_code=201)
        self.answered_events.append(bytes(response.body))
        return response

    def _build(self) -> FastAPI:
        app = FastAPI()
        prefix = "/internal/users/{user_id}"

        @app.middleware("http")
        async def check_credential(request: Request, call_next: Any) -> Any:
            self.requests.append(
                {"raw_path": request.scope.get("raw_path"), "params": request.query_params}
            )
            if request.url.path == "/healthz":
                return await call_next(request)
            if request.headers.get("authorization") != f"Bearer {SERVICE_TOKEN}":
                return _error(401, ErrorCode.AUTH_INVALID, "bad service credential")
            return await call_next(request)

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @app.post(prefix + "/campaigns")
        async def create_campaign(user_id: str, request: Request) -> Any:
            body = await request.json()
            cid = str(uuid4())
            self.campaigns[cid] = {
                "description": None,
                "product_url": None,
                "status": "active",
                **body,
                "id": cid,
                "user_id": user_id,
                "created_at": _now(),
                "updated_at": _now(),
            }
            return JSONResponse(self.campaigns[cid], status_code=201)

        @app.get(prefix + "/campaigns")
        async def list_campaigns(user_id: str, limit: int, offset: int) -> Any:
            mine = [c for c in self.campaigns.values() if c["user_id"] == user_id]
            return {"campaigns": mine[offset : offset + limit], "total": len(mine)}

        @app.api_route(prefix + "/campaigns/{cid}", methods=["GET", "PATCH", "DELETE"])
        async def one_campaign(user_id: str, cid: str, request: Request) -> Any:
            campaign = self._campaign(user_id, cid)
            if campaign is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "campaign not found")
            if request.method == "DELETE":
                del self.campaigns[cid]
                return Response(status_code=204)
            if request.method == "PATCH":
                campaign.update(await request.json())
            return campaign

        @app.put(prefix + "/campaigns/{cid}/profiles/{subreddit}")
        async def put_profile(user_id: str, cid: str, subreddit: str, request: Request) -> Any:
            if self._campaign(user_id, cid) is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "campaign not found")
            created = (cid, subreddit) not in self.profiles
            profile = {
                **(await request.json()),
                "subreddit": subreddit,
                "campaign_id": cid,
                "isc_tier": "High",
                "updated_at": _now(),
            }
            self.profiles[(cid, subreddit)] = profile
            return JSONResponse(profile, status_code=201 if created else 200)

        @app.get(prefix + "/campaigns/{cid}/profiles")
        async def list_profiles(user_id: str, cid: str) -> Any:
            if self._campaign(user_id, cid) is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "campaign not found")
            return {"profiles": [p for (c, _), p in self.profiles.items() if c == cid]}

        @app.get(prefix + "/campaigns/{cid}/profiles/{subreddit}")
        async def get_profile(user_id: str, cid: str, subreddit: str) -> Any:
            profile = self.profiles.get((cid, subreddit))
            if self._campaign(user_id, cid) is None or profile is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "profile not found")
            return profile

        @app.get(prefix + "/campaigns/{cid}/blacklist")
        async def list_blacklist(user_id: str, cid: str) -> Any:
            if self._campaign(user_id, cid) is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "campaign not found")
            return {"entries": [e for e in self.blacklist.values() if e["campaign_id"] == cid]}

        @app.post(prefix + "/campaigns/{cid}/blacklist")
        async def create_entry(user_id: str, cid: str, request: Request) -> Any:
            if self._campaign(user_id, cid) is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "campaign not found")
            entry = {**(await request.json()), "id": str(uuid4()), "campaign_id": cid}
            self.blacklist[entry["id"]] = entry
            return JSONResponse(entry, status_code=201)

        @app.patch(prefix + "/blacklist/{entry_id}")
        async def update_entry(user_id: str, entry_id: str, request: Request) -> Any:
            entry = self.blacklist.get(entry_id)
            if entry is None or self._campaign(user_id, entry["campaign_id"]) is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "entry not found")
            changed = {**entry, **(await request.json())}
            kind = BlacklistKind(changed.get("kind", "literal"))
            if problem := pattern_problem(kind, changed["pattern"]):
                item = {"field": "pattern", "message": problem, "type": "unsupported_pattern"}
                details = {"errors": [item]}
                return _error(422, ErrorCode.VALIDATION_ERROR, f"pattern: {problem}", details)
            entry.update(changed)
            return entry

        @app.delete(prefix + "/blacklist/{entry_id}")
        async def delete_entry(user_id: str, entry_id: str) -> Any:
            entry = self.blacklist.get(entry_id)
            if entry is None or self._campaign(user_id, entry["campaign_id"]) is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "entry not found")
            del self.blacklist[entry_id]
            return Response(status_code=204)

        @app.get(prefix + "/campaigns/{cid}/drafts")
        async def list_drafts(user_id: str, cid: str, request: Request) -> Any:
            if self._campaign(user_id, cid) is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "campaign not found")
            statuses = request.query_params.getlist("status")
            found = [
                d
                for d in self.drafts.values()
                if d["campaign_id"] == cid and (not statuses or d["status"] in statuses)
            ]
            return {"drafts": found, "total": len(found)}

        @app.api_route(prefix + "/drafts/{did}", methods=["GET", "PATCH", "DELETE"])
        async def one_draft(user_id: str, did: str, request: Request) -> Any:
            draft = self.drafts.get(did)
            if draft is None or draft["user_id"] != user_id:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "draft not found")
            if request.method == "DELETE":
                del self.drafts[did]
                return Response(status_code=204)
            if request.method == "PATCH":
                patch = await request.json()
                if draft["status"] == "posted" and patch.get("status") == "discarded":
                    return _error(409, ErrorCode.CONFLICT, "a posted draft cannot be discarded")
                draft.update(patch)
            return draft

        @app.post(prefix + "/campaigns/{cid}/tasks")
        async def open_task(user_id: str, cid: str, request: Request) -> Any:
            campaign = self._campaign(user_id, cid)
            if campaign is None:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "campaign not found")
            return self._event(user_id, campaign, await request.json())

        @app.post(prefix + "/drafts/{did}/tasks")
        async def open_regeneration(user_id: str, did: str, request: Request) -> Any:
            draft = self.drafts.get(did)
            if draft is None or draft["user_id"] != user_id:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "draft not found")
            campaign = self.campaigns[draft["campaign_id"]]
            body = {
                "subreddit": draft["subreddit"],
                "archetype": draft["archetype"],
                "parent_draft_id": did,
                **(await request.json()),
            }
            return self._event(user_id, campaign, body)

        @app.post(prefix + "/tasks/{task_id}/release")
        async def release(user_id: str, task_id: str, request: Request) -> Any:
            task = self.tasks.get(task_id)
            if task is None or task["user_id"] != user_id:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "task not found")
            if task["status"] in ("running", "completed"):  # the generator claimed it already
                details = {"status": task["status"]}
                return _error(409, ErrorCode.CONFLICT, "the task is not queued", details)
            self.released.append({"task_id": task_id, **(await request.json())})
            task.update(status="failed", unit=False)
            return Response(status_code=204)

        @app.get(prefix + "/tasks/{task_id}")
        async def get_task(user_id: str, task_id: str) -> Any:
            task = self.tasks.get(task_id)
            if task is None or task["user_id"] != user_id:
                return _error(404, ErrorCode.RESOURCE_NOT_FOUND, "task not found")
            return {"task_id": task_id, **{k: v for k, v in task.items() if k != "unit"}}

        @app.get(prefix + "/usage")
        async def usage(user_id: str) -> Any:
            return {
                "plan": "trial",
                "period_start": "2025-01-01T00:00:00Z",
                "resets_at": "2025-02-01T00:00:00Z",
                "drafts_used": self.reserved(user_id),
                "drafts_limit": self.limit,
                "spend_usd": 0.0,
                "spend_limit_usd": 5.0,
            }

        return app


class FlakyPublisher:
    """The real producer, with a switch that makes the next publishes fail like a broker outage."""

    def __init__(self, real: KafkaPublisher) -> None:
        self.real = real
        self.fail = False

    @property
    def ready(self) -> bool:
        return self.real.ready

    async def publish(self, event: Any, *, payload: bytes | None = None) -> None:
        if self.fail:
            raise PublishError("simulated outage")
        await self.real.publish(event, payload=payload)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": JWT_SECRET,
        "draft_store_token": SERVICE_TOKEN,
        "draft_store_url": "http://draft-store",
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="module")
def store_database(database_url: str) -> Iterator[str]:
    """A database of the real draft-store at its migrated head, for one test module."""
    with draft_store_database(database_url, "bcrao_gw") as url:
        yield url


@pytest.fixture
def fake_store() -> FakeDraftStore:
    return FakeDraftStore()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher(PublishError)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(settings: Settings, fake_store: FakeDraftStore) -> AsyncIterator[DraftStoreClient]:
    http = create_http_client(settings, transport=httpx.ASGITransport(app=fake_store.app))
    async with http:
        yield DraftStoreClient(http)


@pytest.fixture
def app(
    settings: Settings, store: DraftStoreClient, publisher: FakePublisher, clock: FakeClock
) -> FastAPI:
    return create_app(settings, store=store, publisher=publisher, clock=clock)


@pytest.fixture
async def make_client(
    store: DraftStoreClient, publisher: FakePublisher, clock: FakeClock
) -> AsyncIterator[Any]:
    """Build (app, client) with settings overrides, sharing the fake store, publisher and clock."""
    clients: list[httpx.AsyncClient] = []

    async def build(**overrides: Any) -> tuple[FastAPI, httpx.AsyncClient]:
        app = create_app(make_settings(**overrides), store=store, publisher=publisher, clock=clock)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        clients.append(http)
        return app, http

    yield build
    for http in clients:
        await http.aclose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def bearer(settings: Settings, user_id: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_user_token(settings, user_id, ttl_seconds=600)}"}


@pytest.fixture
def settings_factory() -> Any:
    """Settings with the test secrets; keyword arguments override fields."""
    return make_settings


@pytest.fixture
def alice(settings: Settings) -> dict[str, str]:
    return bearer(settings, "alice")


@pytest.fixture
def bob(settings: Settings) -> dict[str, str]:
    return bearer(settings, "bob")


CAMPAIGN = {
    "name": "Invoicely validation",
    "product_context": "An invoicing app for solo freelancers with payment reminders.",
    "keywords": ["invoicing", "late payments", "freelance clients", "reminders", "cash flow"],
    "target_subreddits": ["r/SaaS", "freelance"],
}


@pytest.fixture
def campaign_body() -> dict[str, Any]:
    return {**CAMPAIGN, "keywords": list(CAMPAIGN["keywords"])}


@pytest.fixture
async def campaign_id(client: httpx.AsyncClient, alice: dict[str, str]) -> str:
    response = await client.post("/v1/campaigns", json=CAMPAIGN, headers=alice)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
