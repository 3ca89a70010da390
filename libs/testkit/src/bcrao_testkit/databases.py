"""Throwaway PostgreSQL databases on a test server."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_database(server_url: str, prefix: str = "bcrao_test") -> str:
    """Creates an empty database; returns its libpq URL (postgresql://...)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_db(server_url, name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(
    server_url: str, prefix: str, setup: Callable[[str], object] | None = None
) -> Iterator[str]:
    """A fresh database for the duration of the block (`setup(url)` runs first, e.g. migrations)."""
    url = create_database(server_url, prefix=prefix)
    try:
        if setup is not None:
            setup(url)
        yield url
    finally:
        drop_database(url)
