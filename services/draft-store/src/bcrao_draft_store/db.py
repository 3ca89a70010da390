"""Engine, sessions and migrations. The caller owns the transaction: `unit_of_work` commits once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bcrao_platform.settings import sqlalchemy_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_engine(database_url: str, *, pool_size: int = 20, pre_ping: bool = False) -> AsyncEngine:
    """A fixed pool, no overflow: an overflow connection is closed as soon as it is returned, so
    every burst above the pool opened and closed connections (a server process each); a burst
    now waits its turn for a warm connection instead (`pool_timeout`, then 503).

    No pre-ping by default: it is one more round trip on every checkout of the hot paths. A
    connection the server dropped fails its statement instead; SQLAlchemy then invalidates the
    pool, the handlers retry transient errors and the REST edge answers 503 with Retry-After."""
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=pre_ping,
    )


async def warm_up(engine: AsyncEngine, connections: int) -> None:
    """Open `connections` pooled connections at once, so the first burst of requests does not
    pay for connection set-up (TCP, authentication, server process start) one by one."""
    async with AsyncExitStack() as stack:
        await asyncio.gather(
            *(stack.enter_async_context(engine.connect()) for _ in range(connections))
        )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block succeeds, rolls back when it raises."""
    async with factory() as session, session.begin():
        yield session


def _alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = sqlalchemy_url(database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Synchronous: call it before the event loop or in a thread."""
    from alembic import command

    command.upgrade(_alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(database_url), revision)
