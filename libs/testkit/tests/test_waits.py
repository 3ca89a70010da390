"""The polling helper: sync and async conditions, and a clear failure on a hang."""

from __future__ import annotations

import pytest
from bcrao_testkit.waits import NeverHappened, eventually


async def test_returns_once_a_sync_condition_holds() -> None:
    calls = []

    def check() -> bool:
        calls.append(1)
        return len(calls) >= 3

    await eventually(check, "three calls", every=0)
    assert len(calls) == 3


async def test_accepts_an_async_condition() -> None:
    seen = []

    async def check() -> bool:
        seen.append(1)
        return len(seen) == 2

    await eventually(check, every=0)
    assert seen == [1, 1]


async def test_a_condition_that_never_holds_names_what_was_awaited() -> None:
    with pytest.raises(NeverHappened, match="the draft was stored"):
        await eventually(lambda: False, "the draft was stored", hang_guard=0.05, every=0.01)
