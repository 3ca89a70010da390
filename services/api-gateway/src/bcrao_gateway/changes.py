"""The per-user change feed: open pages learn what changed without reloading.

Fed by this gateway's own write routes (campaigns, profiles, blacklist entries, drafts: after
draft-store answered) and by the DraftStored events every gateway already reads (a generated
draft landed). Each subscriber is a bounded queue; one that falls `QUEUE_SIZE` messages behind is
ended (its page reconnects and reloads), so a stuck tab never holds memory or slows the others.

Scope: a write reaches the pages connected to the gateway instance that served it; DraftStored
reaches every instance. docs/DOMAIN.md ("Open pages stay current") says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from bcrao_contracts.events import DraftStored
from bcrao_contracts.sse import ChangeMessage

log = logging.getLogger("bcrao_gateway.changes")

QUEUE_SIZE = 256
PING_SECONDS = 15.0
_END = None


class ChangeFeed:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[ChangeMessage | None]]] = {}
        self._closing = False

    @property
    def closing(self) -> bool:
        return self._closing

    def subscribers(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    def publish(self, user_id: str, message: ChangeMessage) -> None:
        for queue in list(self._subscribers.get(user_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._drop(user_id, queue)

    def draft_stored(self, event: DraftStored) -> None:
        draft = event.draft
        self.publish(
            draft.user_id,
            ChangeMessage(
                kind="draft",
                action="stored",
                id=str(draft.id),
                campaign_id=str(draft.campaign_id),
                version=draft.version,
                status=draft.status.value,
            ),
        )

    async def follow(
        self, user_id: str, *, ping_seconds: float = PING_SECONDS, lifetime: float | None = None
    ) -> AsyncIterator[ChangeMessage | None]:
        """The user's changes as they come; None now and then when nothing came (a ping). Ends
        after `lifetime` seconds (the page reconnects), like the progress streams."""
        queue: asyncio.Queue[ChangeMessage | None] = asyncio.Queue(self._queue_size)
        if self._closing:
            return
        loop = asyncio.get_running_loop()
        deadline = None if lifetime is None else loop.time() + lifetime
        self._subscribers.setdefault(user_id, set()).add(queue)
        try:
            while True:
                wait = ping_seconds
                if deadline is not None:
                    left = deadline - loop.time()
                    if left <= 0:
                        return
                    wait = min(wait, left)
                try:
                    message = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    yield None
                    continue
                if message is _END:
                    return
                yield message
        finally:
            self._discard(user_id, queue)

    def close_all(self) -> None:
        """Shutdown: end every open feed (pages reconnect to another instance)."""
        self._closing = True
        for user_id, queues in list(self._subscribers.items()):
            for queue in list(queues):
                self._drop(user_id, queue)

    def _drop(self, user_id: str, queue: asyncio.Queue[ChangeMessage | None]) -> None:
        self._discard(user_id, queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(_END)

    def _discard(self, user_id: str, queue: asyncio.Queue[ChangeMessage | None]) -> None:
        queues = self._subscribers.get(user_id)
        if queues is None:
            return
        queues.discard(queue)
        if not queues:
            del self._subscribers[user_id]
