"""A Kafka producer replaced after an error it never recovers from: the one owner of that, for
the gateway's bare producer and for the FastStream brokers of the generator and draft-store.

An idempotent aiokafka producer whose sequence numbers went wrong (`OutOfOrderSequenceNumber`
after a broker restart, an unknown producer id, a fenced epoch) or that was closed under its
user fails every later send to that partition: it never recovers by itself, and a caller that
retries its record only meets the same error again. `ProducerRenewal` decides (`producer_broken`)
and replaces it once per breakage, however many sends saw it break: a fresh producer is started
(a new producer id, sequences from zero), put in place by a `swap` the owner provides, and the
broken one is stopped in the background. The send that failed still fails; its caller sends
again as after any broker trouble, now on the new producer.

- The gateway owns a bare `AIOKafkaProducer` (bcrao_gateway.publisher): its swap starts a new
  one from the same factory and puts it in place.
- The generator and draft-store publish through a FastStream `KafkaBroker`, whose subscribers
  must keep running: `renew_broken_producers(broker)` swaps only the broker's producer, and a
  publish middleware reports every send's outcome (also the acknowledgement of a `no_confirm`
  send, which arrives later). That swap reaches into two FastStream internals (the broker's
  connection keyword arguments and its producer's current aiokafka client);
  libs/platform/tests/test_producers.py breaks a real producer's sequence numbers and fails if
  either moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    IllegalStateError,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)
from faststream import BaseMiddleware

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

log = logging.getLogger("bcrao_platform.producers")

BROKEN = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    ProducerFenced,
    ProducerClosed,
    IllegalStateError,
)


class Stoppable(Protocol):
    def stop(self) -> Awaitable[Any]: ...


# Starts a fresh producer, puts it in place, and returns the one it replaced (None: there was
# none in use, e.g. the owner is stopping, and nothing was started).
Swap = Callable[[], Awaitable[Stoppable | None]]
STOP_TIMEOUT = 10.0


def producer_broken(exc: BaseException) -> bool:
    """The producer that raised this fails every later send of that partition: replace it."""
    return isinstance(exc, BROKEN)


class ProducerRenewal:
    """Replaces the producer behind `swap` once per breakage, however many sends saw it break.

    `generation` counts replacements: each send remembers the one it went out on, so the many
    sends that failed on one broken producer replace it once, not once each.
    """

    def __init__(self, swap: Swap) -> None:
        self._swap = swap
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self.generation = 0

    @property
    def middleware(self) -> Callable[..., BaseMiddleware]:
        """The factory to give a FastStream broker (`broker.add_middleware`)."""
        return functools.partial(_WatchSends, renewal=self)

    async def renew(self, exc: BaseException, seen: int) -> None:
        """Replace the producer after `exc`, unless that was done since generation `seen`.
        Raises what starting the new one raised (the broker is away, say): the broken one stays
        in place, and the next failed send tries again."""
        if not producer_broken(exc):
            return
        async with self._lock:
            if self.generation != seen:
                return  # another send already replaced the producer that broke
            broken = await self._swap()
            if broken is None:
                return
            self.generation += 1
        log.error("kafka producer failed (%s); replaced it with a new one", type(exc).__name__)
        self._spawn(_quietly(broken.stop()), "retire-kafka-producer")

    async def drain(self) -> None:
        """Wait for the producers being retired (shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def saw(self, exc: BaseException, seen: int) -> None:
        """A send failed with `exc`: renew in the background when it means a broken producer."""
        if producer_broken(exc):
            self._spawn(self._renew_logged(exc, seen), "renew-kafka-producer")

    async def _renew_logged(self, exc: BaseException, seen: int) -> None:
        try:
            await self.renew(exc, seen)
        except Exception as failure:
            log.warning("kafka producer not replaced yet (%s)", type(failure).__name__)

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class _WatchSends(BaseMiddleware):
    __slots__ = ("renewal",)

    def __init__(self, msg: Any, /, *, context: Any, renewal: ProducerRenewal) -> None:
        super().__init__(msg, context=context)
        self.renewal = renewal

    async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
        renewal = self.renewal
        seen = renewal.generation
        try:
            result = await call_next(cmd)
        except Exception as exc:
            renewal.saw(exc, seen)
            raise
        if isinstance(result, asyncio.Future):  # a no_confirm send: its ack comes later

            def acknowledged(future: asyncio.Future[Any]) -> None:
                if not future.cancelled() and (error := future.exception()) is not None:
                    renewal.saw(error, seen)

            result.add_done_callback(acknowledged)
        return result


def renew_broken_producers(broker: KafkaBroker) -> ProducerRenewal:
    """Watch every send of `broker` (its publishers' too) and replace a broken producer."""

    async def swap() -> Stoppable | None:
        fast: Any = broker.config.producer
        broken = fast._producer  # RealProducer (or the empty state of a stopped broker)
        if not broken:
            return None  # the broker is stopped: nothing to renew
        fresh = AIOKafkaProducer(**broker._connection_kwargs)
        try:
            # connect() starts the new producer, then swaps it in: no send finds none.
            await fast.connect(fresh, serializer=fast.serializer, codec=fast.codec)
        except BaseException:
            await _quietly(fresh.stop())
            raise
        return broken

    renewal = ProducerRenewal(swap)
    broker.add_middleware(renewal.middleware)
    return renewal


async def _quietly(closing: Awaitable[None]) -> None:
    """Stop a producer without letting its failure escape (its pending sends fail)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(STOP_TIMEOUT):
            await closing
