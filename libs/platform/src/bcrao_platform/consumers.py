"""Consumer supervision: every Kafka consumer of a service watched, its lag measured from the
broker, and one that fell out of its group or stopped polling recreated in the process.

Why this exists (issue 24): after a broker SIGKILL, draft-store's `drafts.generated` consumer was
no longer a member of its group while its process, FastStream's consume loop and /readyz all
looked fine. aiokafka runs group membership in a background task (`GroupCoordinator.
_coordination_routine`); when that task ends on an unexpected error (aio-libs/aiokafka#376 and
#582: an error escaping the routine, or its `assert assignment ... active` after a rebalance
race) the member stops heart-beating and never rejoins, and every later `getmany()` raises the
same `KafkaError`, which FastStream's loop logs and retries every 5 s for ever. A consumer whose
poll loop is stuck in a handler (an await that never ends) is the other silent stall: after
`max_poll_interval_ms` aiokafka leaves the group and, while the loop does not poll, does not
rejoin (`ensure_active_group` skips the rejoin of an idle fetcher). Neither heals by itself, so
each consumer is watched here:

- **assigned**: its membership task is alive and it holds at least one partition;
- **polled**: it asked for records within `poll_seconds` (a handler stuck longer is a stall);
- **lag** (consumers in a group): the end offsets minus the group's *committed* offsets, read
  by the supervisor's own clients (not from the consumer's last fetch), so a consumer that is
  gone shows growing lag; a broadcast reader (no group) commits nothing and has no lag here;
- **progress**: with lag above zero, the committed offsets moved within `poll_seconds`.

A consumer not assigned or not polling for `rejoin_seconds` while the broker answers is torn
down and recreated (a metric and an error line say so); if recreating raises, the process exits
non-zero (`on_fatal`) so its supervisor (the local launcher, Kubernetes) restarts it. While the
broker does not answer nothing is recreated: a new consumer could not join either, and the old
one rejoins by itself when the broker is back. `/readyz` reports `ready()`.

Reads two aiokafka internals (the membership task and the fetcher's idle time) in
`_membership_alive` / `_idle_seconds`; aiokafka is pinned below 0.15 and
libs/platform/tests/test_consumers.py fails if either moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.consumer.group_coordinator import NoGroupCoordinator
from prometheus_client import CollectorRegistry, Counter, Gauge

from .topics import track_only

log = logging.getLogger("bcrao_platform.consumers")

EXIT_CONSUMER_LOST = 75  # EX_TEMPFAIL: restart me


def exit_process() -> None:
    """The default `on_fatal`: end the process at once with a non-zero status. Not a graceful
    shutdown: a consumer could not be recreated, and offsets are committed only after effects
    are durable, so whatever was in flight is redelivered to the next process."""
    logging.shutdown()
    os._exit(EXIT_CONSUMER_LOST)


def _membership_alive(consumer: AIOKafkaConsumer) -> bool:
    """aiokafka internal: the group member's coordination task is still running (a consumer
    without a group has none and counts as alive)."""
    coordinator: Any = consumer._coordinator
    if coordinator is None:  # not started yet, or stopped (a session being replaced)
        return False
    if isinstance(coordinator, NoGroupCoordinator):
        return True
    task = getattr(coordinator, "_coordination_task", None)
    return task is not None and not task.done()


def _idle_seconds(consumer: AIOKafkaConsumer) -> float:
    """aiokafka internal: seconds since the application last asked for records (0 while it is
    waiting in getone/getmany)."""
    subscription: Any = consumer._subscription
    return float(subscription.fetcher_idle_time)


@dataclass
class Health:
    assigned: bool = False
    polled: bool = False
    progressing: bool = True
    lag: int | None = None
    recreated: int = 0

    @property
    def ok(self) -> bool:
        return self.assigned and self.polled and self.progressing


@dataclass
class Watched:
    name: str
    topics: tuple[str, ...]
    group: str | None
    current: Callable[[], AIOKafkaConsumer | None]
    recreate: Callable[[], Awaitable[None]]
    health: Health = field(default_factory=Health)
    unhealthy_since: float | None = None
    partitions: list[TopicPartition] = field(default_factory=list)
    described: bool = False  # its topics were looked up (partitions empty: none exists yet)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    moved_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class SupervisionPolicy:
    rejoin_seconds: float = 30.0  # unassigned or not polling this long: recreated
    poll_seconds: float = 60.0  # no poll (or no commit while lagging) this long: a stall
    interval: float = 2.0  # seconds between checks


class ConsumerSupervisor:
    """Watches the consumers given to `watch`; `start()` runs the checks, `stop()` ends them."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        registry: CollectorRegistry,
        prefix: str,
        policy: SupervisionPolicy | None = None,
        on_fatal: Callable[[], None] = exit_process,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._options = client_options or {}
        self.policy = policy or SupervisionPolicy()
        self._on_fatal = on_fatal
        self._watched: list[Watched] = []
        self._task: asyncio.Task[None] | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self.lag = Gauge(
            f"{prefix}_consumer_lag",
            "Records after the group's committed offset (end offset minus committed), per "
            "partition; read from the broker, so a consumer that is gone shows growing lag.",
            ["topic", "partition"],
            registry=registry,
        )
        # While the broker does not answer, the lag is not known: its series are removed (not
        # left at their last value, which read as "nothing waits" during a broker outage) and
        # this gauge says so.
        self.lag_measured = Gauge(
            f"{prefix}_consumer_lag_measured",
            "1 while the last lag measurement reached the broker; 0 while it cannot, and the "
            "lag series are then absent rather than stuck at their last value.",
            registry=registry,
        )
        self._lag_series: set[tuple[str, str]] = set()
        self.healthy = Gauge(
            f"{prefix}_consumer_healthy",
            "1 while the consumer holds partitions, polls and progresses; 0 otherwise.",
            ["consumer"],
            registry=registry,
        )
        self.recreated = Counter(
            f"{prefix}_consumer_recreated",
            "Consumers torn down and recreated in the process by the supervisor.",
            ["consumer"],
            registry=registry,
        )

    def watch(
        self,
        name: str,
        *,
        topics: Iterable[str],
        group: str | None,
        current: Callable[[], AIOKafkaConsumer | None],
        recreate: Callable[[], Awaitable[None]],
    ) -> None:
        watched = Watched(name, tuple(topics), group, current, recreate)
        self._watched.append(watched)
        self.healthy.labels(name).set(0)

    def watch_faststream(self, subscriber: Any, name: str | None = None) -> None:
        """A FastStream Kafka subscriber: its consumer is `subscriber.consumer`; recreating it
        is stopping and starting the subscriber (FastStream builds a new aiokafka consumer)."""

        async def recreate() -> None:
            await subscriber.stop()
            await subscriber.start()

        topics = tuple(subscriber.topic_names_for_subscribe)
        self.watch(
            name or ",".join(topics),
            topics=topics,
            group=subscriber.group_id,
            current=lambda: subscriber.consumer,
            recreate=recreate,
        )

    def ready(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """Every watched consumer healthy at the last check, and what each check said."""
        report = {
            w.name: {
                "assigned": w.health.assigned,
                "polled": w.health.polled,
                "progressing": w.health.progressing,
                "lag": w.health.lag,
                "recreated": w.health.recreated,
            }
            for w in self._watched
        }
        return bool(self._watched) and all(w.health.ok for w in self._watched), report

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="consumer-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close_clients()

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let the watcher die of what it watches
                log.warning("consumer check failed: %s", type(exc).__name__)
            await asyncio.sleep(self.policy.interval)

    async def check(self) -> None:
        """One pass: the broker's view (lag, progress), each consumer's own state, and the
        recreation of those unhealthy for longer than the bound while the broker answers."""
        now = time.monotonic()
        broker_answers = await self._measure(now)
        for watched in self._watched:
            self._assess(watched, now)
            self.healthy.labels(watched.name).set(1 if watched.health.ok else 0)
            if watched.health.ok:
                watched.unhealthy_since = None
                continue
            if watched.unhealthy_since is None:
                watched.unhealthy_since = now
            stalled = not (watched.health.assigned and watched.health.polled)
            overdue = now - watched.unhealthy_since >= self.policy.rejoin_seconds
            if stalled and overdue and broker_answers:
                await self._recreate(watched)

    def _assess(self, watched: Watched, now: float) -> None:
        consumer = watched.current()
        health = watched.health
        if consumer is None:
            health.assigned = health.polled = False
            return
        if watched.described and not watched.partitions:
            # None of its topics exists yet: there is nothing to hold or to poll.
            health.assigned = health.polled = _membership_alive(consumer)
            return
        health.assigned = _membership_alive(consumer) and bool(consumer.assignment())
        health.polled = _idle_seconds(consumer) < self.policy.poll_seconds
        lagging = bool(health.lag)
        health.progressing = not lagging or now - watched.moved_at < self.policy.poll_seconds

    async def _recreate(self, watched: Watched) -> None:
        log.error(
            "kafka consumer %s lost its group or stopped polling for %.0f s "
            "(assigned=%s polled=%s); recreating it",
            watched.name,
            self.policy.rejoin_seconds,
            watched.health.assigned,
            watched.health.polled,
        )
        try:
            await watched.recreate()
        except Exception:
            log.critical("kafka consumer %s could not be recreated; exiting", watched.name)
            self._on_fatal()
            return
        self.recreated.labels(watched.name).inc()
        watched.health.recreated += 1
        watched.unhealthy_since = None
        watched.moved_at = time.monotonic()

    async def _measure(self, now: float) -> bool:
        """Lag per partition from the broker: end offsets (a group-less consumer) minus the
        group's committed offsets (the admin client). False when the broker did not answer."""
        try:
            admin, offsets = await self._clients()
            for watched in self._watched:
                if not watched.partitions:
                    described = await admin.describe_topics(list(watched.topics))
                    watched.partitions = [
                        TopicPartition(topic["topic"], p["partition"])
                        for topic in described
                        if not topic["error_code"]
                        for p in topic["partitions"]
                    ]
                    watched.described = True
                partitions = watched.partitions
                if not partitions or watched.group is None:
                    continue  # no topic yet; or a broadcast reader, which commits nothing
                ends = await offsets.end_offsets(partitions)
                got = await admin.list_consumer_group_offsets(watched.group, partitions=partitions)
                committed = {tp: max(0, got[tp].offset) if tp in got else 0 for tp in ends}
                self._record_lag(watched, ends, committed, now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("consumer lag not measured (broker unreachable?): %s", type(exc).__name__)
            await self._close_clients()
            self.lag_measured.set(0)
            for series in self._lag_series:
                self.lag.remove(*series)
            self._lag_series.clear()
            return False
        self.lag_measured.set(1)
        return True

    def _record_lag(
        self,
        watched: Watched,
        ends: dict[TopicPartition, int],
        committed: dict[TopicPartition, int],
        now: float,
    ) -> None:
        total = 0
        for tp, end in ends.items():
            behind = max(0, end - committed[tp])
            total += behind
            series = (tp.topic, str(tp.partition))
            self.lag.labels(*series).set(behind)
            self._lag_series.add(series)
        if committed != watched.committed:
            watched.committed = committed
            watched.moved_at = now
        watched.health.lag = total

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._offsets is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap, request_timeout_ms=10_000, **self._options
            )
            offsets = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=10_000,
                **self._options,
            )
            try:
                await admin.start()
                await offsets.start()
                topics = sorted({topic for watched in self._watched for topic in watched.topics})
                await track_only(admin, topics)
                await track_only(offsets, topics)
            except BaseException:
                with contextlib.suppress(Exception):
                    await admin.close()
                with contextlib.suppress(Exception):
                    await offsets.stop()
                raise
            self._admin, self._offsets = admin, offsets
        return self._admin, self._offsets

    async def _close_clients(self) -> None:
        admin, offsets = self._admin, self._offsets
        self._admin = self._offsets = None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
        if offsets is not None:
            with contextlib.suppress(Exception):
                await offsets.stop()
