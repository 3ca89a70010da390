"""A Kafka consumer that runs many messages at once and still commits in order (at-least-once).

Why not FastStream's subscriber: it acknowledges a message by committing the consumer's
position once the handler returns, so the position must only ever move past finished
messages. That holds only when one partition runs one message at a time, which caps the
generations in flight at the partition count (`max_workers` adds group members, not
parallelism inside a partition). A generation is an LLM wait of 10-40 s, so we want hundreds
at once. Here each message runs as its own task; `OffsetTracker` knows, per partition, the
lowest offset still running, and only that is committed. Fetching pauses at the in-flight
cap, and the poll loop never waits on a generation, so `max_poll_interval_ms` cannot expire.

On a rebalance the revoked partitions get `rebalance_grace` seconds to finish; what is still
running then is cancelled and handed back uncommitted (the next owner runs it again). On
`stop()` fetching stops, in-flight work gets `grace` seconds, safe offsets are committed,
and the rest is cancelled: unfinished messages are redelivered, never skipped.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError, KafkaTimeoutError
from bcrao_platform.deadletter import AttemptTracker

from .offsets import OffsetTracker

log = logging.getLogger(__name__)

Handle = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]
# (record, reason, error, attempts) -> None; must raise when the dead letter was not stored.
DeadLetter = Callable[[ConsumerRecord[bytes, bytes], str, BaseException, int], Awaitable[None]]


class Poison(Exception):
    """Raised by a handler for a message that can never succeed: dead-lettered at once.

    `reason` is one of bcrao_platform.deadletter.REASONS (unreadable, unsupported, ...).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def is_transient(exc: BaseException) -> bool:
    """Broker trouble (unreachable, no leader, a send timing out), not the message's fault:
    retried without spending its attempts. A record the broker refuses (too large) is not."""
    return isinstance(exc, KafkaTimeoutError) or (
        isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
    )


@dataclass(frozen=True)
class ConsumerConfig:
    bootstrap_servers: str
    topic: str
    group_id: str
    client_id: str = "bcrao-generator"
    concurrency: int = 256
    max_attempts: int = 5
    rebalance_grace: float = 10.0
    commit_interval: float = 0.2
    poll_timeout: float = 0.5
    retry_base: float = 0.5
    retry_cap: float = 10.0
    max_poll_interval_ms: int = 1_800_000
    options: dict[str, Any] = field(default_factory=dict)


class OrderedConsumer:
    def __init__(self, config: ConsumerConfig, handle: Handle, dead_letter: DeadLetter) -> None:
        self._cfg = config
        self._handle = handle
        self._dead_letter = dead_letter
        self._offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        self._attempts = AttemptTracker(config.max_attempts)
        self._tasks: dict[TopicPartition, set[asyncio.Task[None]]] = {}
        self._capacity = asyncio.Event()
        self._dirty = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._stopping = False
        self._consumer: AIOKafkaConsumer | None = None
        self._poller: asyncio.Task[None] | None = None
        self._committer: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        return self._offsets.in_flight()

    def lag(self) -> dict[int, int]:
        """Per owned partition: messages after the commit point (running or not fetched yet).
        Partitions with nothing started since they were assigned are left out."""
        if self._consumer is None:
            return {}
        out: dict[int, int] = {}
        for tp in self._consumer.assignment():
            end, point = self._consumer.highwater(tp), self._offsets.commit_point(tp)
            if end is not None and point is not None:
                out[tp.partition] = max(0, end - point)
        return out

    @property
    def ready(self) -> bool:
        """Polling, and the group gave this member at least one partition."""
        return (
            self._consumer is not None
            and self._poller is not None
            and not self._poller.done()
            and bool(self._consumer.assignment())
        )

    async def start(self) -> None:
        cfg = self._cfg
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=cfg.bootstrap_servers,
            group_id=cfg.group_id,
            client_id=cfg.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=cfg.max_poll_interval_ms,
            # How long the group waits for members to revoke (rebalance_grace) and rejoin; a
            # member killed without leaving holds every rebalance up for this long, so keep it
            # just above the grace.
            rebalance_timeout_ms=int((cfg.rebalance_grace + 5) * 1000),
            **cfg.options,
        )
        await self._consumer.start()
        self._consumer.subscribe([cfg.topic], listener=_Rebalance(self))
        self._poller = asyncio.create_task(self._poll_loop(), name="consumer-poll")
        self._committer = asyncio.create_task(self._commit_loop(), name="consumer-commit")

    async def stop(self, grace: float) -> None:
        """Stop fetching, let in-flight work finish for `grace` s, commit, cancel the rest."""
        self._stopping = True
        if self._poller is not None:
            await self._poller
        running = self._all_tasks()
        if running and grace > 0:
            log.info("draining %d in-flight messages (up to %gs)", len(running), grace)
            await asyncio.wait(running, timeout=grace)
        # What did not finish is cancelled uncommitted: the group redelivers it.
        await self._cancel(self._all_tasks())
        if self._committer is not None:
            self._committer.cancel()
            with suppress(asyncio.CancelledError):
                await self._committer
        await self._commit()
        if self._consumer is not None:
            await self._consumer.stop()

    async def abandon(self) -> None:
        """Stop at once committing nothing, as a crash would (tests use it to prove the
        redelivery); the members left in the group get every unfinished message again."""
        self._stopping = True
        for task in (self._poller, self._committer):
            if task is not None:
                task.cancel()
        await self._cancel(self._all_tasks())
        if self._consumer is not None:
            await self._consumer.stop()

    # --- the poll loop -------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while not self._stopping:
            try:
                await self._poll_once()
            except Exception:
                # The loop must outlive any error (a dead poller would stop all consumption
                # while the process looks alive); aiokafka recovers its connections itself.
                log.exception("polling failed; polling again")
                await asyncio.sleep(self._cfg.poll_timeout)

    async def _poll_once(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        self._capacity.clear()  # before counting, so a completion from here on wakes us
        free = self._cfg.concurrency - self.in_flight
        if free <= 0:
            # At the cap: pause fetching, but keep polling (paused partitions return nothing)
            # so the group never takes this member for dead.
            consumer.pause(*consumer.assignment())
            with suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._capacity.wait()
            timeout_ms, max_records = 0, 1
        else:
            if paused := consumer.paused():
                consumer.resume(*paused)
            timeout_ms, max_records = int(self._cfg.poll_timeout * 1000), free
        batch = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        # Whatever a poll returns runs, even past the cap (a partition assigned since the
        # pause is not paused): a record returned and not run would be skipped by the commit.
        for tp, records in batch.items():
            for record in records:
                self._dispatch(tp, record)

    def _dispatch(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        self._offsets.started(tp, record.offset)
        task = asyncio.create_task(self._run(tp, record), name=f"{tp.topic}/{tp.partition}")
        self._tasks.setdefault(tp, set()).add(task)
        task.add_done_callback(lambda t: self._tasks.get(tp, set()).discard(t))

    async def _run(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        # Cancellation (shutdown, revocation) leaves the offset unfinished on purpose.
        await self._process(record)
        self._offsets.finished(tp, record.offset)
        self._capacity.set()
        self._dirty.set()

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        where = (record.topic, record.partition, record.offset)
        transient = 0
        while True:
            try:
                await self._handle(record)
                self._attempts.forget(*where)
                return
            except Poison as exc:
                await self._store_dead_letter(record, exc.reason, exc, 1)
                return
            except Exception as exc:
                if is_transient(exc):
                    transient += 1
                    log.warning("message %s/%s@%s hit broker trouble, retrying", *where)
                    await asyncio.sleep(self._delay(transient))
                    continue
                attempts = self._attempts.record_failure(*where)
                if self._attempts.exhausted(*where):
                    log.error("message %s/%s@%s failed %d times", *where, attempts, exc_info=True)
                    await self._store_dead_letter(record, "exhausted", exc, attempts)
                    self._attempts.forget(*where)
                    return
                log.warning("message %s/%s@%s failed (attempt %d)", *where, attempts, exc_info=True)
                await asyncio.sleep(self._delay(attempts))

    async def _store_dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, exc: BaseException, attempts: int
    ) -> None:
        # The offset moves past a dead letter only once the DLQ holds it: retry until it does.
        tries = 0
        while True:
            try:
                await self._dead_letter(record, reason, exc, attempts)
                return
            except Exception:
                tries += 1
                log.warning("dead-lettering failed, retrying", exc_info=True)
                await asyncio.sleep(self._delay(tries))

    def _delay(self, attempt: int) -> float:
        backoff = min(self._cfg.retry_cap, self._cfg.retry_base * 2 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)

    # --- commits -------------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        # Coalesces completions: at most one commit request per commit_interval.
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self._commit()
            await asyncio.sleep(self._cfg.commit_interval)

    async def _commit(self, partitions: list[TopicPartition] | None = None) -> None:
        if self._consumer is None:
            return
        async with self._commit_lock:
            owned = self._consumer.assignment()
            wanted = [tp for tp in (partitions or list(owned)) if tp in owned]
            offsets = self._offsets.committable(wanted)
            if not offsets:
                return
            try:
                await self._consumer.commit(offsets)
            except KafkaError:
                # Not lost: the same (or a later) offset is committed on the next round.
                log.warning("offset commit failed; retrying later", exc_info=True)
                self._dirty.set()
                return
            self._offsets.mark_committed(offsets)

    # --- rebalancing ---------------------------------------------------------------------

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        running = {t for tp in revoked for t in self._tasks.get(tp, set())}
        if running and self._cfg.rebalance_grace > 0:
            await asyncio.wait(running, timeout=self._cfg.rebalance_grace)
        # Commit before cancelling: the still-running offsets stay uncommitted either way.
        await self._commit(list(revoked))
        await self._cancel({t for t in running if not t.done()})
        for tp in revoked:
            self._offsets.forget(tp)
            self._tasks.pop(tp, None)
        if running:
            log.info("revoked %d partitions with %d in flight", len(revoked), len(running))

    def _all_tasks(self) -> set[asyncio.Task[None]]:
        return {t for tasks in self._tasks.values() for t in tasks}

    @staticmethod
    async def _cancel(tasks: set[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: OrderedConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned %d partitions", len(assigned))
