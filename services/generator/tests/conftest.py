"""The generator tests' own session clean-up (the broker and database fixtures are the root's)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from .kafka_helpers import delete_created_topics


@pytest.fixture(scope="session", autouse=True)
def _drop_created_topics() -> Iterator[None]:
    yield
    asyncio.run(delete_created_topics())
