"""The per-user change feed (changes.py): who hears what, a feed that falls behind ends, the
feed ends at shutdown and after its lifetime."""

from __future__ import annotations

import asyncio

from bcrao_contracts.sse import ChangeMessage
from bcrao_gateway.changes import ChangeFeed


def _change(n: int) -> ChangeMessage:
    return ChangeMessage(kind="draft", action="edited", id=f"d{n}")


async def _collect(feed: ChangeFeed, user: str, **options: float) -> list[ChangeMessage]:
    return [m async for m in feed.follow(user, **options) if m is not None]


async def test_only_the_owner_hears_and_a_feed_that_falls_behind_ends() -> None:
    feed = ChangeFeed(queue_size=3)
    alice = asyncio.create_task(_collect(feed, "alice"))
    bob = asyncio.create_task(_collect(feed, "bob"))
    while feed.subscribers() < 2:
        await asyncio.sleep(0)
    for n in range(5):  # alice's feed takes nothing meanwhile: it falls 3 behind and ends
        feed.publish("alice", _change(n))
    assert await asyncio.wait_for(alice, 1) == []
    assert feed.subscribers() == 1
    feed.publish("bob", _change(9))
    for _ in range(10):  # let bob's feed take it (close_all drops what is still queued)
        await asyncio.sleep(0)
    feed.close_all()
    assert [m.id for m in await asyncio.wait_for(bob, 1)] == ["d9"]
    assert feed.subscribers() == 0
    assert await _collect(feed, "carol") == []  # closing: no new feed opens


async def test_a_feed_ends_after_its_lifetime_and_pings_meanwhile() -> None:
    feed = ChangeFeed()
    seen = [m async for m in feed.follow("dana", ping_seconds=0.01, lifetime=0.05)]
    assert seen
    assert all(m is None for m in seen)
    assert feed.subscribers() == 0
