"""Broadcast reader: every gateway instance reads every partition of the stream topics.

No consumer group: a group would split partitions between instances, but any instance may be
asked for any task's stream. Partitions are assigned explicitly and, on start, positioned at
`now - replay_seconds`, so a (re)started gateway rebuilds the recent tasks in its buffer; nothing
is committed (the position is only ever this process's business).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from bcrao_contracts.events import parse_event
from bcrao_contracts.topics import Topics

from .hub import TaskHub
from .settings import StreamSettings

log = logging.getLogger("bcrao_gateway.streaming.reader")

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
# New partitions or late-created topics are picked up this often (assignment is explicit, so
# nothing tells us otherwise).
PARTITION_REFRESH_SECONDS = 30.0


def stream_topics(topics: Topics) -> tuple[str, ...]:
    return (topics.progress, topics.failed, topics.stored)


class StreamReader:
    def __init__(
        self,
        bootstrap_servers: str,
        topics: Topics,
        hub: TaskHub,
        settings: StreamSettings,
        *,
        wall_clock: Callable[[], float] = time.time,
        partition_refresh_seconds: float = PARTITION_REFRESH_SECONDS,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topics = stream_topics(topics)
        self._hub = hub
        self._settings = settings
        self._wall_clock = wall_clock
        self._refresh_every = partition_refresh_seconds
        self._task: asyncio.Task[None] | None = None
        # Next offset to read per partition: a reconnect resumes here instead of replaying again.
        self._positions: dict[TopicPartition, int] = {}
        # End offsets seen at the first start; caught up once every partition reached its own.
        self._catch_up: dict[TopicPartition, int] | None = None
        self.caught_up = False
        self.messages = 0
        self.unparsable = 0

    async def start(self) -> None:
        """Start reading in the background; never blocks on the broker (it may be down)."""
        self._task = asyncio.create_task(self._run(), name="stream-reader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = BACKOFF_START
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",  # only used if a saved position fell off retention
                client_id="bcrao-gateway-stream",
            )
            try:
                await consumer.start()
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as exc:
                log.warning("stream reader: broker error, retrying in %.1fs: %r", backoff, exc)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
            # Capped exponential backoff with jitter, so instances do not reconnect in lockstep.
            await asyncio.sleep(backoff * (0.5 + random.random() / 2))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        loop = asyncio.get_running_loop()
        assigned = await self._assign(consumer, set())
        if self._catch_up is None:
            self._catch_up = {}  # no stream topic exists yet: there is nothing to replay
        await self._check_caught_up(consumer, quiet=False)
        next_refresh = loop.time() + self._refresh_every
        while True:
            if assigned:
                batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            else:  # getmany() would wait for an assignment that only a refresh can bring
                batches = {}
                await asyncio.sleep(min(self._refresh_every, 0.5))
            for tp, records in batches.items():
                for record in records:
                    self._feed(record.value, tp)
                if records:
                    self._positions[tp] = records[-1].offset + 1
            if not self.caught_up:
                await self._check_caught_up(consumer, quiet=not batches)
            if loop.time() >= next_refresh:
                assigned = await self._assign(consumer, assigned)
                next_refresh = loop.time() + self._refresh_every

    def _feed(self, value: bytes | None, tp: TopicPartition) -> None:
        self.messages += 1
        if value is None:
            return
        try:
            event = parse_event(value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError, as is bad JSON
            self.unparsable += 1
            log.warning("stream reader: skipping unparsable message on %s: %s", tp, str(exc)[:300])
            return
        self._hub.ingest(event)

    async def _assign(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> set[TopicPartition]:
        """Assign every partition of the stream topics; position the new ones. Returns the set."""
        partitions = await _partitions(consumer, self._topics)
        if partitions == assigned:
            return assigned
        consumer.assign(list(partitions))
        # assign() forgets positions, so every partition is positioned again: where we were, or
        # (first sight) at the replay horizon; a partition created after we started reads from 0.
        fresh = [tp for tp in partitions if tp not in self._positions]
        for tp in partitions - set(fresh):
            consumer.seek(tp, self._positions[tp])
        if fresh:
            first = not assigned and self._catch_up is None
            await self._position_fresh(consumer, fresh, first=first)
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


async def _partitions(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> set[TopicPartition]:
    # The public consumer.topics() fetches this same full metadata but returns only the names,
    # and partitions_for_topic() only knows topics already tracked; so ask the client directly.
    cluster = await consumer._client.fetch_all_metadata()
    found: set[TopicPartition] = set()
    for topic in topics:
        # None when the topic does not exist yet: the next refresh picks it up.
        for p in cluster.partitions_for_topic(topic) or ():
            found.add(TopicPartition(topic, p))
    return found
