"""TaskHub: a bounded in-memory buffer of each task's stream frames, and their fan-out.

Frames are encoded once at ingest (`id: seq` + JSON) and shared by every subscriber of the task,
so fanning an event out to N streams costs N wake-ups, not N encodings or N copies. A subscriber's
"queue" is the window between its cursor and the task's contiguous frontier: a client that falls
more than `client_queue_size` messages behind is dropped (its stream ends; EventSource reconnects
with Last-Event-ID and resumes from the buffer) so it never slows anyone else and costs no memory.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from bcrao_contracts.events import DraftStored, Event, GenerationFailed, ProgressUpdated

from .buffer import Offer, TaskBuffer
from .frames import frame_for
from .settings import StreamSettings

log = logging.getLogger("bcrao_gateway.streaming.hub")

Clock = Callable[[], float]


REAPED = -1.0
# How long a task with no event yet (queued here, or subscribed to as queued) is served from the
# hub alone; after that a stream asks draft-store again, in case its events never came here.
EXPECT_SECONDS = 30.0


class SubState(enum.Enum):
    OPEN = "open"
    DONE = "done"  # the terminal message was handed over
    DROPPED = "dropped"  # too slow, or its task was evicted: the client should reconnect
    CLOSED = "closed"  # the gateway is shutting down (farewell) or the client went away


class Subscription:
    """One open stream's position in one task. Deliberately tiny: 10,000 of these must be cheap."""

    __slots__ = (
        "_waiter",
        "counted",
        "cursor",
        "keeping_up",
        "owner",
        "sending_since",
        "state",
        "task_id",
    )

    def __init__(self, task_id: UUID, cursor: int) -> None:
        self.task_id = task_id
        self.cursor = cursor  # highest seq already handed to this stream
        self.state = SubState.OPEN
        self.counted = False  # whether it is in the hub's open-streams count
        # Set when news found it idle (it had sent all it took); cleared when it takes again.
        self.keeping_up = False
        # The task writing this stream, and since when (time.monotonic) a write has been pending
        # (0.0: none; REAPED: the writer was cancelled because the client took nothing).
        self.owner: asyncio.Task[None] | None = None
        self.sending_since = 0.0
        self._waiter: asyncio.Future[bool] | None = None

    @property
    def is_open(self) -> bool:
        return self.state is SubState.OPEN

    @property
    def idle(self) -> bool:
        """Waiting for news: it has sent everything it took, so it is keeping up."""
        return self._waiter is not None and not self._waiter.done()

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)

    def end(self, state: SubState) -> None:
        if self.state is SubState.OPEN:
            self.state = state
        self.wake()

    async def wait(self, timeout: float) -> bool:
        """Sleep until woken (True) or until `timeout` seconds passed (False)."""
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        # call_later + a bare future instead of asyncio.wait_for: no Task per wait, less memory.
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        return waiter.result()


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class _Task:
    """A task's buffer (pure, `buffer.py`) plus what the fan-out needs around it."""

    __slots__ = ("buffer", "campaign_id", "last_event_at", "owner", "subscribers", "task_id")

    def __init__(self, task_id: UUID, now: float, max_frames: int) -> None:
        self.task_id = task_id
        self.buffer = TaskBuffer(max_frames)
        self.campaign_id: UUID | None = None
        self.owner: str | None = None  # the user id, once an event or the request told us
        self.last_event_at = now
        self.subscribers: set[Subscription] = set()


class TaskHub:
    def __init__(
        self,
        settings: StreamSettings,
        *,
        clock: Clock = time.monotonic,
        on_terminal: Callable[[UUID], None] | None = None,
        on_stored: Callable[[DraftStored], None] | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        # Told once per task when its terminal event arrives (the gateway's in-flight limits).
        self._on_terminal = on_terminal
        # Told once per stored draft (the per-user change feed).
        self._on_stored = on_stored
        # Two LRU orders (oldest first): finished tasks are evicted before running ones.
        self._active: OrderedDict[UUID, _Task] = OrderedDict()
        self._finished: OrderedDict[UUID, _Task] = OrderedDict()
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()  # set when the last stream ends after close_all()
        self._closing = False
        self._open_streams = 0
        self._dropped_slow = 0
        self._ingested = 0
        self._duplicates = 0
        self._evicted = 0

    # ---- readiness (the reader has replayed the topics up to their end at start) ----

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def closing(self) -> bool:
        return self._closing

    def mark_ready(self) -> None:
        self._ready.set()

    async def wait_ready(self, timeout: float) -> bool:
        if self._ready.is_set():
            return True
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # ---- ingest ----

    def ingest(self, event: Event) -> bool:
        """Buffer an event and wake the task's streams; False when ignored (duplicate, late...)."""
        if not isinstance(event, ProgressUpdated | GenerationFailed | DraftStored):
            return False
        task = self._get(event.task_id) or self._create(event.task_id)
        buffer = task.buffer
        # A failure before any stream began (e.g. the gateway's own publish failed) has no seq.
        seq = event.seq if event.seq is not None else buffer.next_seq()
        terminal = not isinstance(event, ProgressUpdated)
        if isinstance(event, GenerationFailed):
            task.campaign_id, task.owner = event.campaign_id, event.user_id
        elif isinstance(event, DraftStored):
            task.campaign_id, task.owner = event.draft.campaign_id, event.draft.user_id
        now = self._clock()
        offer, advanced = buffer.offer(
            seq, lambda: frame_for(seq, event), terminal=terminal, now=now
        )
        if offer is Offer.DUPLICATE:
            self._duplicates += 1
            return False
        task.last_event_at = now
        self._ingested += 1
        if offer is Offer.FULL:
            return False
        if advanced:
            self._notify(task)
        self._touch(task)
        if terminal and self._on_terminal is not None:
            try:
                self._on_terminal(event.task_id)
            except Exception:  # a bookkeeping hook must never stop the stream
                log.exception("on_terminal hook failed", extra={"task_id": str(event.task_id)})
        if isinstance(event, DraftStored) and self._on_stored is not None:
            try:
                self._on_stored(event)
            except Exception:
                log.exception("on_stored hook failed", extra={"task_id": str(event.task_id)})
        return True

    def _notify(self, task: _Task) -> None:
        limit = self._settings.client_queue_size
        for sub in list(task.subscribers):
            # Only a stream still busy writing what it took can be too slow. One that was idle
            # when the news came takes the whole burst at once, however large (a replay after an
            # outage brings more than `limit` events in one poll).
            if sub.idle:
                sub.keeping_up = True
            if not sub.keeping_up and task.buffer.frontier - sub.cursor > limit:
                task.subscribers.discard(sub)
                self._dropped_slow += 1
                sub.end(SubState.DROPPED)
                log.info("dropped slow stream", extra={"task_id": str(sub.task_id)})
            else:
                sub.wake()

    # ---- subscribe / consume ----

    def expect(self, task_id: UUID, campaign_id: UUID, owner: str) -> None:
        """A task this gateway just queued: its stream, opened next, needs no lookup in
        draft-store to know the task exists, whose campaign it is and whose task."""
        task = self._get(task_id) or self._create(task_id)
        task.campaign_id, task.owner = campaign_id, owner

    def owner_of(self, task_id: UUID) -> str | None:
        """The task's user id, when this hub has been told (None: ask draft-store)."""
        task = self._get(task_id)
        return task.owner if task else None

    def knows(self, task_id: UUID) -> bool:
        """Whether the hub can serve the task's stream by itself: it has the task's events, or it
        has been waiting for them less than EXPECT_SECONDS."""
        task = self._get(task_id)
        if task is None:
            return False
        return self._has_events(task) or self._clock() - task.last_event_at < EXPECT_SECONDS

    def has_events(self, task_id: UUID) -> bool:
        task = self._get(task_id)
        return task is not None and self._has_events(task)

    @staticmethod
    def _has_events(task: _Task) -> bool:
        return task.buffer.top > 0 or task.buffer.floor > 0

    def campaign_of(self, task_id: UUID) -> UUID | None:
        task = self._get(task_id)
        return task.campaign_id if task else None

    def subscribe(
        self, task_id: UUID, after: int = 0, *, create: bool = False
    ) -> Subscription | None:
        """A stream of the task's messages after seq `after`; None if unknown and not `create`."""
        task = self._get(task_id)
        if task is None:
            if not create:
                return None
            task = self._create(task_id)
        sub = Subscription(task_id, max(after, 0))
        if self._closing:
            sub.state = SubState.CLOSED
            return sub
        task.subscribers.add(sub)
        sub.counted = True
        self._open_streams += 1
        return sub

    def take(self, sub: Subscription) -> list[bytes]:
        """Frames the stream has not sent, contiguous from its cursor; ends it after a terminal."""
        task = self._get(sub.task_id)
        if task is None:
            sub.end(SubState.DROPPED)
            return []
        if not sub.is_open:
            return []
        sub.keeping_up = False
        out, sub.cursor = task.buffer.after(sub.cursor)
        terminal = task.buffer.terminal_seq
        if terminal is not None and sub.cursor >= terminal:
            sub.end(SubState.DONE)
        return out

    def reap_stalled(self, now: float) -> int:
        """Cancel the writers of streams whose pending write is older than the send timeout.

        A client that stops reading fills its socket, and the server then blocks that stream's
        write forever; the periodic sweep ends such streams (they may reconnect and resume).
        Checking here rather than with a timer around every write keeps writes cheap.
        """
        timeout = self._settings.send_timeout_seconds
        reaped = 0
        for task in self._tasks():
            for sub in list(task.subscribers):
                since = sub.sending_since
                if since > 0 and now - since > timeout and sub.owner is not None:
                    task.subscribers.discard(sub)
                    sub.sending_since = REAPED
                    sub.end(SubState.DROPPED)
                    sub.owner.cancel()
                    reaped += 1
        self._dropped_slow += reaped
        return reaped

    def unsubscribe(self, sub: Subscription) -> None:
        task = self._get(sub.task_id)
        if task is not None:
            task.subscribers.discard(sub)
        if sub.counted:
            sub.counted = False
            self._open_streams -= 1
            if self._closing and not self._open_streams:
                self._drained.set()
        if sub.state is SubState.OPEN:
            sub.state = SubState.CLOSED

    def close_all(self) -> int:
        """Shutdown: end every open stream (they send their farewell) and refuse new ones."""
        self._closing = True
        closed = 0
        for task in self._tasks():
            for sub in task.subscribers:
                sub.end(SubState.CLOSED)
                closed += 1
            task.subscribers.clear()
        if not self._open_streams:
            self._drained.set()
        return closed

    async def wait_drained(self, timeout: float) -> bool:
        """After close_all(): wait until every stream has sent its farewell (or the timeout)."""
        try:
            await asyncio.wait_for(self._drained.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # ---- bounds ----

    def sweep(self) -> int:
        """Evict tasks idle past the TTL; skip gaps that can no longer fill. Returns evictions."""
        now = self._clock()
        evicted = 0
        for lru, ttl in (
            (self._finished, self._settings.buffer_finished_ttl_seconds),
            (self._active, self._settings.buffer_ttl_seconds),
        ):
            for task_id, task in list(lru.items()):
                if now - task.last_event_at < ttl:
                    break  # LRU order: everything after this one is younger
                if task.subscribers:
                    continue
                del lru[task_id]
                evicted += 1
        self._evicted += evicted
        if self.ready:
            gap_timeout = self._settings.gap_timeout_seconds
            for task in list(self._active.values()):
                since = task.buffer.gap_since
                if since is not None and now - since >= gap_timeout:
                    self._skip_gap(task, now)
        return evicted

    def _skip_gap(self, task: _Task, now: float) -> None:
        skipped = task.buffer.skip_gap(now)
        if skipped is None:
            return
        log.warning(
            "skipping an unfillable seq gap %d..%d", *skipped, extra={"task_id": str(task.task_id)}
        )
        self._notify(task)
        if task.buffer.finished:
            self._touch(task)

    def _get(self, task_id: UUID) -> _Task | None:
        return self._active.get(task_id) or self._finished.get(task_id)

    def _create(self, task_id: UUID) -> _Task:
        while len(self._active) + len(self._finished) >= self._settings.buffer_max_tasks:
            lru = self._finished or self._active
            _, victim = lru.popitem(last=False)
            self._evicted += 1
            for sub in victim.subscribers:
                sub.end(SubState.DROPPED)  # its client reconnects and is served from draft-store
            victim.subscribers.clear()
        task = _Task(task_id, self._clock(), self._settings.buffer_max_events_per_task)
        self._active[task_id] = task
        return task

    def _touch(self, task: _Task) -> None:
        if task.buffer.finished:
            self._active.pop(task.task_id, None)
            self._finished[task.task_id] = task
            self._finished.move_to_end(task.task_id)
        else:
            self._active.move_to_end(task.task_id)

    def _tasks(self) -> list[_Task]:
        return [*self._active.values(), *self._finished.values()]

    def metrics(self) -> dict[str, int]:
        return {
            "open_streams": self._open_streams,
            "tasks_buffered": len(self._active) + len(self._finished),
            "tasks_running": len(self._active),
            "frames_buffered": sum(len(t.buffer.frames) for t in self._tasks()),
            "dropped_slow_clients": self._dropped_slow,
            "events_ingested": self._ingested,
            "events_ignored": self._duplicates,
            "tasks_evicted": self._evicted,
        }
