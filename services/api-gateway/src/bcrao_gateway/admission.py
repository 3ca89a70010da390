"""Per-user admission of generate/regenerate requests: a sliding-window rate and an in-flight cap.

Both live in this gateway instance's memory, so with N instances behind a load balancer a user can
reach N times these figures; they protect against floods and runaway clients, while the quota
that matters commercially (drafts per month, `bcrao_rules.drafts.PLAN_LIMITS`) is enforced
race-free by draft-store.

In flight = accepted (202) and not yet known to be over. The streaming side calls
`InFlight.finish(task_id)` when it sees a task's terminal event; when a user is at the cap the
gateway also asks draft-store about the tasks it still counts, so a missed terminal event (another
instance served the stream, nobody streamed) never blocks a user; entries also expire after
`in_flight_ttl_seconds`.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from bcrao_contracts.api import TaskState
from bcrao_contracts.enums import ErrorCode, TaskStatus

from bcrao_gateway.config import Settings
from bcrao_gateway.errors import ApiError

log = logging.getLogger("bcrao_gateway.admission")

Clock = Callable[[], float]
WINDOW_SECONDS = 60.0
IN_FLIGHT_RETRY_AFTER = 5
SWEEP_EVERY = 1024


class TaskLookup(Protocol):
    async def get_task(self, user_id: str, task_id: UUID) -> TaskState | None: ...


def _rate_limited(details: dict[str, object], retry_after: int) -> ApiError:
    return ApiError(
        429,
        ErrorCode.RATE_LIMITED,
        "too many generation requests; retry later",
        {**details, "retry_after_seconds": retry_after},
        {"Retry-After": str(retry_after)},
    )


class SlidingWindow:
    """At most `limit` events per user in any `window` seconds."""

    def __init__(self, limit: int, clock: Clock, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._recorded = 0

    def _recent(self, user_id: str, now: float) -> deque[float]:
        events = self._events.get(user_id, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def retry_after(self, user_id: str) -> float:
        """Seconds until one more event is allowed (0 when allowed now)."""
        now = self._clock()
        events = self._recent(user_id, now)
        if len(events) < self.limit:
            return 0.0
        return events[0] + self.window - now

    def remaining(self, user_id: str) -> int:
        """How many more events are allowed right now."""
        return max(0, self.limit - len(self._recent(user_id, self._clock())))

    def record(self, user_id: str) -> float:
        """Count one event now; returns its time (to `forget` it)."""
        now = self._clock()
        self._events.setdefault(user_id, deque()).append(now)
        self._recorded += 1
        if self._recorded % SWEEP_EVERY == 0:
            self._sweep(now)
        return now

    def forget(self, user_id: str, at: float) -> None:
        """Take back an event counted at `at` (a refusal the system caused, not the user)."""
        events = self._events.get(user_id)
        if events is not None and at in events:
            events.remove(at)

    def _sweep(self, now: float) -> None:
        for user_id in [u for u, events in self._events.items() if not self._recent(u, now)]:
            del self._events[user_id]


class Slot:
    """An in-flight place held while a request is being admitted; bind it or cancel it."""

    def __init__(self, owner: InFlight, user_id: str) -> None:
        self._owner = owner
        self.user_id = user_id
        self._open = True
        self.counted_at: float | None = None  # when the rate window counted this request

    def bind(self, task_id: UUID) -> None:
        if self._open:
            self._open = False
            self._owner._bind(self.user_id, task_id)

    def cancel(self) -> None:
        if self._open:
            self._open = False
            self._owner._pending[self.user_id] -= 1
            if not self._owner._pending[self.user_id]:
                del self._owner._pending[self.user_id]


class InFlight:
    def __init__(self, limit: int, ttl_seconds: float, clock: Clock) -> None:
        self.limit = limit
        self.ttl = ttl_seconds
        self._clock = clock
        self._tasks: dict[str, dict[UUID, float]] = {}
        self._users: dict[UUID, str] = {}
        self._pending: dict[str, int] = {}

    def tracked(self, user_id: str) -> list[UUID]:
        now = self._clock()
        for task_id, since in list(self._tasks.get(user_id, {}).items()):
            if now - since >= self.ttl:
                self.finish(task_id)
        return list(self._tasks.get(user_id, {}))

    def count(self, user_id: str) -> int:
        return len(self.tracked(user_id)) + self._pending.get(user_id, 0)

    def reserve(self, user_id: str) -> Slot:
        current = self.count(user_id)
        if current >= self.limit:
            raise _rate_limited(
                {"reason": "in_flight", "limit": self.limit, "in_flight": current},
                IN_FLIGHT_RETRY_AFTER,
            )
        self._pending[user_id] = self._pending.get(user_id, 0) + 1
        return Slot(self, user_id)

    def _bind(self, user_id: str, task_id: UUID) -> None:
        self._pending[user_id] -= 1
        if not self._pending[user_id]:
            del self._pending[user_id]
        self._tasks.setdefault(user_id, {})[task_id] = self._clock()
        self._users[task_id] = user_id

    def finish(self, task_id: UUID) -> None:
        """The task is over (stored, failed, released); safe to call more than once."""
        user_id = self._users.pop(task_id, None)
        if user_id is None:
            return
        tasks = self._tasks.get(user_id, {})
        tasks.pop(task_id, None)
        if not tasks:
            self._tasks.pop(user_id, None)


class GenerateLimits:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        clock = clock or time.monotonic
        self.rate = SlidingWindow(settings.generate_rate_per_minute, clock)
        self.in_flight = InFlight(settings.max_in_flight, settings.in_flight_ttl_seconds, clock)

    async def admit(self, user_id: str, tasks: TaskLookup) -> Slot:
        """Hold an in-flight place for one more generation, or raise 429 RATE_LIMITED."""
        if self.in_flight.count(user_id) >= self.in_flight.limit:
            await self._forget_finished(user_id, tasks)
        # From here to the end nothing awaits, so concurrent requests cannot both squeeze in.
        wait = self.rate.retry_after(user_id)
        if wait > 0:
            raise _rate_limited(
                {"reason": "rate", "limit": self.rate.limit, "window_seconds": int(WINDOW_SECONDS)},
                max(1, math.ceil(wait)),
            )
        slot = self.in_flight.reserve(user_id)
        slot.counted_at = self.rate.record(user_id)
        return slot

    def refund_rate(self, slot: Slot) -> None:
        """The request was refused because of the system (503: draft-store or Kafka away): it
        does not count against the user's per-minute budget, so retrying after the outage is
        not answered 429."""
        if slot.counted_at is not None:
            self.rate.forget(slot.user_id, slot.counted_at)
            slot.counted_at = None

    async def _forget_finished(self, user_id: str, tasks: TaskLookup) -> None:
        for task_id in self.in_flight.tracked(user_id):
            try:
                state = await tasks.get_task(user_id, task_id)
            except ApiError as exc:
                log.warning("cannot check task %s: %s", task_id, exc.code.value)
                continue
            if state is None or state.status not in (TaskStatus.QUEUED, TaskStatus.RUNNING):
                self.in_flight.finish(task_id)
