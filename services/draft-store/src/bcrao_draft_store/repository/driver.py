"""The session's own psycopg connection, for the hot paths that skip the ORM."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncSession


async def driver(session: AsyncSession) -> AsyncConnection[Any]:
    """Statements sent on it run inside the session's transaction (the same connection), and
    with `prepare=True` psycopg keeps them prepared on that connection."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    conn: AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return conn
