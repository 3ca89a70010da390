"""Fixtures of the draft-store tests: a fresh database per session on the shared server."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest
from bcrao_draft_store.app import create_app
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import create_engine, upgrade
from bcrao_stacktest.factories import SERVICE_TOKEN as TOKEN
from bcrao_stacktest.factories import make_settings
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def store_database(database_url: str) -> Iterator[str]:
    """CREATE DATABASE bcrao_test_<random>, migrate it, and drop it when the session ends."""
    name = f"bcrao_test_{secrets.token_hex(6)}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(database_url, name)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def engine(store_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(store_database, pool_size=20)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One transaction per test, rolled back at the end; commits inside become savepoints."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def user_id() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(store_database: str) -> Settings:
    return make_settings(store_database)


@pytest.fixture
def kafka_settings(store_database: str, kafka_bootstrap: str) -> Settings:
    """Settings on the real broker: topics and a consumer group of the test's own."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    return make_settings(
        store_database,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        consumer_group=f"draft-store-{prefix}",
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The REST surface without the lifespan: no broker is started for these tests."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://draft-store",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client
    await app.state.runtime.engine.dispose()
