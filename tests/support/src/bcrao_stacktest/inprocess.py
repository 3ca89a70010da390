"""The real draft-store, and the gateway over it, inside the test's process.

draft-store's app runs on a throwaway database with its migrations; the gateway's store client
reaches it over httpx's ASGITransport, and a test reaches the gateway the same way: no network,
no lifespans, no Kafka (the publisher is a capturing fake unless the test passes another). This is
how the gateway's API tests run against the real draft-store instead of a fake of it.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.models import Draft
from bcrao_draft_store import ingest
from bcrao_draft_store.app import create_app as create_draft_store
from bcrao_draft_store.db import unit_of_work, upgrade
from bcrao_gateway.app import create_app as create_gateway
from bcrao_gateway.auth import issue_user_token
from bcrao_gateway.config import Settings as GatewaySettings
from bcrao_gateway.store_client import DraftStoreClient, create_http_client
from bcrao_testkit.databases import throwaway_database
from bcrao_testkit.fakes import CapturingPublisher
from fastapi import FastAPI

from .factories import SERVICE_TOKEN, draft_generated, make_settings

STORE_URL = "http://draft-store"  # what the gateway's settings name; ASGITransport ignores it
GATEWAY_URL = "http://gateway"


@contextmanager
def draft_store_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh database at draft-store's migrated head, dropped at the end of the block."""
    with throwaway_database(server_url, prefix, upgrade) as url:
        yield url


def draft_store_app(database: str, **settings: Any) -> FastAPI:
    """draft-store's app on `database` (its test settings: the shared service token, a topic
    prefix of its own, short retries). Dispose of `app.state.runtime.engine` when done."""
    return create_draft_store(make_settings(database, **settings))


@asynccontextmanager
async def internal_client(app: Any, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of draft-store's internal REST (the real app, or a fake with its own `token`),
    with the service token."""
    bearer = SERVICE_TOKEN if token is None else token
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=STORE_URL,
        headers={"Authorization": f"Bearer {bearer}"},
    ) as client:
        yield client


def gateway_settings(**overrides: Any) -> GatewaySettings:
    """The gateway's settings for a gateway over the in-process draft-store (its URL and service
    token filled in); `overrides` (the JWT secret at least) are the test's."""
    values: dict[str, Any] = {
        "draft_store_token": SERVICE_TOKEN,
        "draft_store_url": STORE_URL,
        **overrides,
    }
    return GatewaySettings(**values)


def wire_gateway(
    settings: GatewaySettings, store_app: Any, publisher: Any, **app_options: Any
) -> tuple[FastAPI, httpx.AsyncClient]:
    """The gateway app whose store client talks to `store_app` over ASGITransport, and that
    client's HTTP connection (close it when done)."""
    http = create_http_client(settings, transport=httpx.ASGITransport(app=store_app))
    app = create_gateway(settings, store=DraftStoreClient(http), publisher=publisher, **app_options)
    return app, http


async def store_draft(store_app: Any, opened: GenerateRequested) -> Draft:
    """The draft of an opened task, stored the honest way short of running the generator: its
    DraftGenerated (draft-store's test builder) applied by draft-store's own ingest step, which
    is what its consumer runs."""
    generated = draft_generated(opened.task_id, opened.user_id, opened.campaign.id)
    async with unit_of_work(store_app.state.runtime.sessions) as session:
        stored = await ingest.store_generated(session, generated)
    return stored.draft


@dataclass
class GatewayOverStore:
    client: httpx.AsyncClient  # the gateway's public API
    app: FastAPI  # the gateway
    store_app: FastAPI  # the real draft-store behind it
    settings: GatewaySettings
    publisher: Any  # CapturingPublisher unless the test passed its own

    def auth(self, user_id: str) -> dict[str, str]:
        """The headers of a request by `user_id` (a user JWT the gateway accepts)."""
        return {"Authorization": f"Bearer {issue_user_token(self.settings, user_id)}"}

    def fresh_user(self) -> dict[str, str]:
        """The headers of a new user of the test's own (a random id: the database is shared)."""
        return self.auth(f"user-{secrets.token_hex(4)}")

    async def store_draft(self, opened: GenerateRequested) -> Draft:
        return await store_draft(self.store_app, opened)


@asynccontextmanager
async def gateway_over_draft_store(
    database: str, settings: GatewaySettings, *, publisher: Any = None
) -> AsyncIterator[GatewayOverStore]:
    """The gateway over the real draft-store on `database`, both in this process."""
    store_app = draft_store_app(database)
    publisher = publisher if publisher is not None else CapturingPublisher()
    try:
        app, http = wire_gateway(settings, store_app, publisher)
        transport = httpx.ASGITransport(app=app)
        async with http, httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
            yield GatewayOverStore(client, app, store_app, settings, publisher)
    finally:
        await store_app.state.runtime.engine.dispose()
