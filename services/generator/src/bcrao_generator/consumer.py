"""A Kafka consumer that runs many messages at once and still commits in order (at-least-once).

Why not FastStream's subscriber: it acknowledges a message by committing the consumer's
position once the handler returns, so the position must only ever move past finished
messages. That holds only when one partition runs one message at a time, which caps the
generations in flight at the partition count (`max_workers` adds group members, not
parallelism inside a partition). A generation is an LLM wait of 10-40 s, so we want hundreds
at once. Here each message runs as its own task; `OffsetTracker` knows, per partition, the
lowest offset still running, and only that is committed. Fetching pauses at the in-flight
cap, and the poll loop never waits on a generation, so `max_poll_interval_ms` cannot expire.

On a rebalance (aiokafka rebalances eagerly: every partition is revoked, then reassigned) the
revoked partitions get `rebalance_grace` seconds to finish, and the safe offsets are committed.
What still runs then keeps running as an orphan: if its partition comes back to this member,
the refetched record adopts the running task (or its result) instead of starting the LLM call
again, and a record that had finished but was not committed yet (behind a running one, or because
the commit failed: a member whose session expired cannot commit) is not run again; if the
partition went elsewhere, the orphan is cancelled and the new owner runs it. So a
rebalance that leaves a partition where it was costs no work, and frequent rebalances cannot
keep restarting long generations there. On `stop()` fetching stops, in-flight work gets `grace`
seconds, safe offsets are committed, and the rest is cancelled: unfinished messages are
redelivered, never skipped.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from .offsets import OffsetTracker
from .retries import DeadLetter, Handle, Record, Retrying

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerConfig:
    bootstrap_servers: str
    topic: str
    group_id: str
    client_id: str = "bcrao-generator"
    concurrency: int = 256
    max_attempts: int = 5
    rebalance_grace: float = 5.0
    commit_interval: float = 0.2
    poll_timeout: float = 0.5
    retry_base: float = 0.5
    retry_cap: float = 10.0
    max_poll_interval_ms: int = 1_800_000
    options: dict[str, Any] = field(default_factory=dict)


class OrderedConsumer:
    def __init__(self, config: ConsumerConfig, handle: Handle, dead_letter: DeadLetter) -> None:
        self._cfg = config
        self._process = Retrying(
            handle,
            dead_letter,
            max_attempts=config.max_attempts,
            base=config.retry_base,
            cap=config.retry_cap,
        )
        self._offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        self._tasks: dict[TopicPartition, dict[int, asyncio.Task[None]]] = {}
        # Records of revoked partitions, by (partition, offset): still running, or finished
        # after the revocation (their events are out; a refetch must not run them again).
        self._orphans: dict[tuple[TopicPartition, int], asyncio.Task[None]] = {}
        self._finished_orphans: set[tuple[TopicPartition, int]] = set()
        # Per revoked partition, the offset below which every record was finished when it was
        # revoked. Their commit may have failed (a member whose session expired cannot commit):
        # if the partition comes back here, the refetched records below it are done, not rerun.
        self._done_below: dict[TopicPartition, int] = {}
        self._capacity = asyncio.Event()
        self._dirty = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._stopping = False
        self._consumer: AIOKafkaConsumer | None = None
        self._poller: asyncio.Task[None] | None = None
        self._committer: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        return self._offsets.in_flight() + len(self._orphans)

    def partitions(self) -> set[int]:
        return {tp.partition for tp in self._consumer.assignment()} if self._consumer else set()

    @property
    def ready(self) -> bool:
        """Polling, and the group gave this member at least one partition."""
        return (
            self._consumer is not None
            and self._poller is not None
            and not self._poller.done()
            and bool(self._consumer.assignment())
        )

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The aiokafka consumer now in use (bcrao_platform.consumers watches it)."""
        return self._consumer

    async def restart(self) -> None:
        """Tear the aiokafka consumer down and start a new one (the supervisor does this when
        the member fell out of its group): in-flight work gets `rebalance_grace` seconds, safe
        offsets are committed, the rest is redelivered to whoever owns the partition next."""
        await self.stop(self._cfg.rebalance_grace)
        self._offsets = OffsetTracker()
        self._tasks.clear()
        self._orphans.clear()
        self._finished_orphans.clear()
        self._done_below.clear()
        self._stopping = False
        await self.start()

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

    def _dispatch(self, tp: TopicPartition, record: Record) -> None:
        key = (tp, record.offset)
        if self._offsets.commit_point(tp) is None:
            self._drop_orphans_before(tp, record.offset)
        self._offsets.started(tp, record.offset)
        if key in self._finished_orphans or record.offset < self._done_below.get(tp, -1):
            self._finished_orphans.discard(key)
            self._finished(tp, record.offset)
            return
        task = self._orphans.pop(key, None)
        if task is None or task.done():
            task = asyncio.create_task(self._run(tp, record), name=f"{tp.topic}/{tp.partition}")
        self._tasks.setdefault(tp, {})[record.offset] = task

    async def _run(self, tp: TopicPartition, record: Record) -> None:
        # Cancellation (shutdown, revocation) leaves the offset unfinished on purpose.
        try:
            await self._process(record)
        finally:
            tasks = self._tasks.get(tp, {})
            if tasks.get(record.offset) is asyncio.current_task():
                del tasks[record.offset]
        if self._orphans.pop((tp, record.offset), None) is not None:
            self._finished_orphans.add((tp, record.offset))
        else:
            self._finished(tp, record.offset)

    def _finished(self, tp: TopicPartition, offset: int) -> None:
        self._offsets.finished(tp, offset)
        self._capacity.set()
        self._dirty.set()

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
        running = {t for tp in revoked for t in self._tasks.get(tp, {}).values()}
        if running and self._cfg.rebalance_grace > 0:
            await asyncio.wait(running, timeout=self._cfg.rebalance_grace)
        # Only finished records count: the still-running offsets stay uncommitted.
        await self._commit(list(revoked))
        for tp in revoked:
            for offset, task in self._tasks.pop(tp, {}).items():
                if not task.done():
                    self._orphans[(tp, offset)] = task
            point, finished = self._offsets.done(tp)
            if point is not None:
                self._done_below[tp] = point
            self._finished_orphans |= {(tp, offset) for offset in finished}
            self._offsets.forget(tp)
        if running:
            log.info("revoked %d partitions, %d still running", len(revoked), len(self._orphans))

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        # Orphans of partitions now owned elsewhere: their new owner runs them.
        gone = {key for key in self._orphans if key[0] not in assigned}
        await self._cancel({self._orphans.pop(key) for key in gone})
        self._finished_orphans = {key for key in self._finished_orphans if key[0] in assigned}
        self._done_below = {tp: o for tp, o in self._done_below.items() if tp in assigned}

    def _drop_orphans_before(self, tp: TopicPartition, offset: int) -> None:
        # The partition's committed offset moved past these while another member owned it.
        for key in [k for k in self._orphans if k[0] == tp and k[1] < offset]:
            self._orphans.pop(key).cancel()
        self._finished_orphans = {k for k in self._finished_orphans if k[0] != tp or k[1] >= offset}

    def _all_tasks(self) -> set[asyncio.Task[None]]:
        owned = {t for tasks in self._tasks.values() for t in tasks.values()}
        return owned | set(self._orphans.values())

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
        await self._owner._on_assigned(set(assigned))
