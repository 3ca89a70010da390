"""Broadcast reader: every gateway instance reads every partition of the stream topics.

No consumer group: a group would split partitions between instances, but any instance may be
asked for any task's stream. Partitions are assigned explicitly and, on start, positioned at
`now - replay_seconds`, so a (re)started gateway rebuilds the recent tasks in its buffer; nothing
is committed (the position is only ever this process's business).

The reader is supervised: a session (one consumer and one admin client) ends on any error, and a
new session resumes from the saved positions after a short capped backoff. Only `stop()` ends
the loop. aiokafka can raise `CancelledError` from its own internals (closing a consumer after a
broker outage does), which must not be mistaken for ours: ours is the one that the task itself
is being cancelled with (`Task.cancelling()`), or the `stop()` flag.

Health: `connected` means the current session reached the broker within the last few checks (a
consumer whose broker is gone just returns empty fetches, so the periodic metadata call is what
notices); `/readyz` needs a live, connected, caught-up reader.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from bcrao_contracts.events import DraftStored, GenerationFailed, UnsupportedEvent, parse_event
from bcrao_contracts.topics import Topics
from bcrao_platform.retry import RetryCallState, retrying
from bcrao_platform.tracing import context_from_headers
from opentelemetry import trace

from .clients import (
    AdminFactory,
    ConsumerFactory,
    default_admin,
    default_consumer,
    describe_error,
    topic_partitions,
)
from .hub import TaskHub
from .settings import StreamSettings

log = logging.getLogger("bcrao_gateway.streaming.reader")

BACKOFF_START = 0.5
# Low on purpose: after a broker outage, streams resume at most this long after it is back.
BACKOFF_MAX = 5.0
CLOSE_TIMEOUT = 5.0
# A check that failed this many times in a row (or never answered) marks the reader disconnected.
STALE_CHECKS = 3


def _session_error(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled inside the Kafka client"
    return describe_error(exc) if isinstance(exc, Exception) else type(exc).__name__


def stream_topics(topics: Topics) -> tuple[str, ...]:
    return (topics.progress, topics.failed, topics.stored)


class DeadLetterSink(Protocol):
    """Takes a record the reader cannot use; must not block (the reader does not wait)."""

    def __call__(self, record: ConsumerRecord[Any, Any], reason: str, error: str) -> None: ...


class StreamReader:
    def __init__(
        self,
        bootstrap_servers: str,
        topics: Topics,
        hub: TaskHub,
        settings: StreamSettings,
        *,
        wall_clock: Callable[[], float] = time.time,
        partition_refresh_seconds: float | None = None,
        consumer_factory: ConsumerFactory | None = None,
        admin_factory: AdminFactory = default_admin,
        dead_letters: DeadLetterSink | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        # None when tracing is off: then no header is even looked at.
        self._tracer = tracer
        self._topics = stream_topics(topics)
        self._hub = hub
        self._settings = settings
        self._wall_clock = wall_clock
        # Assignment is explicit, so only asking tells us about new partitions and topics; a
        # consumer whose broker is gone just returns empty fetches, so a cheap metadata round
        # trip every `reader_check_seconds` tells us the broker still answers.
        self._refresh_every = partition_refresh_seconds or settings.reader_refresh_seconds
        self._check_every = min(settings.reader_check_seconds, self._refresh_every)
        self._new_consumer = consumer_factory or partial(
            default_consumer,
            fetch_wait_ms=settings.fetch_wait_ms,
            fetch_min_bytes=settings.fetch_min_bytes,
        )
        self._new_admin = admin_factory
        self._dead_letters = dead_letters
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Next offset to read per partition: a new session resumes here instead of replaying.
        self._positions: dict[TopicPartition, int] = {}
        # End offsets seen at the first start; caught up once every partition reached its own.
        self._catch_up: dict[TopicPartition, int] | None = None
        # Records below these offsets were there before this process started: an earlier run
        # already dead-lettered what it could not parse, so the replay only skips them.
        self._live_from: dict[TopicPartition, int] = {}
        self._in_session = False
        self._consumer: AIOKafkaConsumer | None = None  # the current session's
        self._last_contact = 0.0
        self.caught_up = False
        self.restarts = 0
        self.messages = 0
        self.unparsable = 0
        self.consumed: Counter[str] = Counter()

    # ---- lifecycle and health ----

    async def start(self) -> None:
        """Start reading in the background; never blocks on the broker (it may be down)."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="stream-reader")

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # our caller is being cancelled too: pass it on

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def connected(self) -> bool:
        fresh = time.monotonic() - self._last_contact < self._check_every * STALE_CHECKS
        return self.alive and self._in_session and fresh

    @property
    def healthy(self) -> bool:
        return self.connected and self.caught_up

    def health(self) -> dict[str, Any]:
        return {
            "alive": self.alive,
            "connected": self.connected,
            "caught_up": self.caught_up,
            "restarts": self.restarts,
        }

    def _ours(self) -> bool:
        """Whether a CancelledError seen now is our own stop (not aiokafka's internal one)."""
        current = asyncio.current_task()
        return self._stopping or (current is not None and current.cancelling() > 0)

    async def _run(self) -> None:
        """Sessions for ever: any error (or aiokafka's own CancelledError) starts a new one after
        a capped, jittered backoff (bcrao_platform.retry), reset once a session ran a while."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        streak = 0

        def restartable(exc: BaseException) -> bool:
            if isinstance(exc, asyncio.CancelledError):
                return not self._ours()  # ours ends the loop; the Kafka client's does not
            return isinstance(exc, Exception)

        def restarted(exc: BaseException) -> None:
            self.restarts += 1
            log.warning("stream reader: %s; reconnecting", _session_error(exc))

        def backoff(state: RetryCallState) -> float:
            nonlocal streak
            streak = 1 if loop.time() - began > BACKOFF_MAX * 4 else streak + 1
            delay = min(BACKOFF_START * 2 ** (streak - 1), BACKOFF_MAX)
            return delay * (0.5 + random.random() / 2)  # jitter: no lockstep reconnects

        async for attempt in retrying(
            None,
            BACKOFF_START,
            BACKOFF_MAX,
            restartable,
            on_retry=restarted,
            logger=log,
            what="stream reader session ended",
            wait=backoff,
        ):
            with attempt:
                began = loop.time()
                try:
                    await self._session()
                finally:
                    self._in_session = False
                raise RuntimeError("session ended")  # _consume never returns; defensive

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The current session's consumer (bcrao_platform.consumers watches it)."""
        return self._consumer

    async def restart_session(self) -> None:
        """End the current session (its consumer is stopped, so its poll fails) and let the
        reader's loop start a new one: what the consumer supervisor does to a stalled reader."""
        consumer = self._consumer
        if consumer is not None:
            await self._close(consumer.stop)

    async def _session(self) -> None:
        consumer = self._new_consumer(self._bootstrap)
        admin = self._new_admin(self._bootstrap)
        self._consumer = consumer
        try:
            await consumer.start()
            await admin.start()
            await self._consume(consumer, admin)
        finally:
            self._consumer = None
            try:
                await self._close(consumer.stop)
            finally:
                await self._close(admin.close)

    async def _close(self, close: Callable[[], Awaitable[None]]) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await close()
        except asyncio.CancelledError:
            if self._ours():
                raise
            log.debug("stream reader: the Kafka client cancelled itself while closing")
        except Exception as exc:
            log.debug("stream reader: closing a Kafka client failed: %r", exc)

    # ---- reading ----

    async def _consume(self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient) -> None:
        loop = asyncio.get_running_loop()
        assigned = await self._assign(consumer, admin, set())
        self._in_session = True
        if self._catch_up is None:
            self._catch_up = {}  # no stream topic exists yet: there is nothing to replay
        await self._check_caught_up(consumer, quiet=False)
        next_check = loop.time() + self._check_every
        next_refresh = loop.time() + self._refresh_every
        while True:
            if assigned:
                batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            else:  # getmany() would wait for an assignment that only a refresh can bring
                batches = {}
                await asyncio.sleep(min(self._check_every, 0.5))
            for tp, records in batches.items():
                for record in records:
                    self._feed(record, tp)
                if records:
                    self._positions[tp] = records[-1].offset + 1
            if not self.caught_up:
                await self._check_caught_up(consumer, quiet=not batches)
            if loop.time() >= next_refresh:
                assigned = await self._assign(consumer, admin, assigned)
                next_refresh = loop.time() + self._refresh_every
                next_check = loop.time() + self._check_every
            elif loop.time() >= next_check:
                async with asyncio.timeout(self._check_every * 2):
                    await admin.describe_topics([])  # no topic: a round trip that costs nothing
                self._last_contact = time.monotonic()
                next_check = loop.time() + self._check_every

    def _feed(self, record: ConsumerRecord[Any, Any], tp: TopicPartition) -> None:
        self.messages += 1
        self.consumed[tp.topic] += 1
        value = record.value
        if value is None:
            return
        try:
            event = parse_event(value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError, as is bad JSON
            self.unparsable += 1
            log.warning("stream reader: skipping unparsable message on %s: %s", tp, str(exc)[:300])
            live = record.offset >= self._live_from.get(tp, 0)
            if self._dead_letters is not None and live:
                reason = "unsupported" if isinstance(exc, UnsupportedEvent) else "unreadable"
                self._dead_letters(record, reason, str(exc)[:1000])
            return
        if self._tracer is not None and isinstance(event, DraftStored | GenerationFailed):
            # The end of a generation's trace: a child of the span that published the event.
            with self._tracer.start_as_current_span(
                f"deliver {type(event).__name__}",
                context=context_from_headers(record.headers),
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "process",
                    "messaging.destination.name": tp.topic,
                    "messaging.destination.partition.id": str(tp.partition),
                    "messaging.kafka.offset": record.offset,
                    "bcrao.task_id": str(event.task_id),
                },
            ):
                self._hub.ingest(event)
            return
        self._hub.ingest(event)

    async def _assign(
        self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient, assigned: set[TopicPartition]
    ) -> set[TopicPartition]:
        """Assign every partition of the stream topics; position the new ones. Returns the set."""
        async with asyncio.timeout(max(self._check_every * 2, 10.0)):
            partitions = await topic_partitions(admin, self._topics)
        self._last_contact = time.monotonic()
        if partitions == assigned:
            return assigned
        consumer.assign(list(partitions))
        # assign() forgets positions, so every partition is positioned again: where we were, or
        # (first sight) at the replay horizon; a partition created after we started reads from 0.
        fresh = [tp for tp in partitions if tp not in self._positions]
        for tp in partitions - set(fresh):
            consumer.seek(tp, self._positions[tp])
        if fresh:
            await self._position_fresh(consumer, fresh, first=self._catch_up is None)
        log.info("stream reader: reading %d partitions of %s", len(partitions), self._topics)
        return partitions

    async def _position_fresh(
        self, consumer: AIOKafkaConsumer, fresh: list[TopicPartition], *, first: bool
    ) -> None:
        ends = await consumer.end_offsets(fresh)
        if first:
            since_ms = int((self._wall_clock() - self._settings.replay_seconds) * 1000)
            found = await consumer.offsets_for_times({tp: since_ms for tp in fresh})
            starts = {tp: (found[tp].offset if found.get(tp) else ends[tp]) for tp in fresh}
            self._catch_up = {tp: ends[tp] for tp in fresh if starts[tp] < ends[tp]}
            self._live_from.update(ends)
        else:
            begins = await consumer.beginning_offsets(fresh)
            starts = dict(begins)
        for tp in fresh:
            consumer.seek(tp, starts[tp])
            self._positions[tp] = starts[tp]

    async def _check_caught_up(self, consumer: AIOKafkaConsumer, *, quiet: bool) -> None:
        if self._catch_up is None:
            return
        behind = {tp: end for tp, end in self._catch_up.items() if self._positions.get(tp, 0) < end}
        if behind and quiet:
            # Records that are never delivered (transaction markers, compaction) would otherwise
            # keep us "behind" forever: trust the consumer's own position when nothing arrives.
            for tp in list(behind):
                if await consumer.position(tp) >= behind[tp]:
                    del behind[tp]
        self._catch_up = behind
        if not behind:
            self.caught_up = True
            self._hub.mark_ready()
            log.info("stream reader: caught up with the replay window")
