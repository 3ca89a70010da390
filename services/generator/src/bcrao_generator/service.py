"""Composition root of the Kafka side: producer (FastStream broker), consumer, claims, handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from bcrao_contracts.topics import Topics
from bcrao_platform.consumers import ConsumerSupervisor, SupervisionPolicy
from bcrao_platform.logs import faststream_logging
from bcrao_platform.producers import renew_broken_producers
from bcrao_platform.topics import broker_tracks_its_topics
from bcrao_platform.tracing import tracer
from faststream.kafka import KafkaBroker, KafkaRouter
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from .claims import TaskClaims
from .config import Settings
from .consumer import ConsumerConfig, OrderedConsumer
from .handlers import Generator, dead_letter, handle_record
from .llm import LLM
from .metrics import GeneratorMetrics
from .publishers import Publishers
from .tracing import TracedLLM

CLIENT_ID = "bcrao-generator"
STOP_MARGIN_SECONDS = 3.0  # the commit and the consumer's close, after the drain
log = logging.getLogger(__name__)


class GeneratorService:
    def __init__(
        self,
        settings: Settings,
        llm: LLM,
        registry: CollectorRegistry,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.settings = settings
        self.tracer_provider = tracer_provider
        spans = tracer(tracer_provider, "bcrao_generator")
        self.llm: LLM = TracedLLM(llm, spans) if tracer_provider is not None else llm
        self.metrics = GeneratorMetrics(registry)
        topics = Topics(settings.topic_prefix)
        router = KafkaRouter()
        self.publishers = Publishers(router, topics, self.metrics, spans)
        # The producer only: consuming is OrderedConsumer's (consumer.py says why).
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            client_id=CLIENT_ID,
            **faststream_logging(),
        )
        renew_broken_producers(self.broker)  # OutOfOrderSequenceNumber after a broker restart
        self.broker.include_router(router)
        self.claims: TaskClaims | None = None
        if settings.draft_store_url and settings.draft_store_token is not None:
            self.claims = TaskClaims(
                settings.draft_store_url,
                settings.draft_store_token,
                retry_cap=settings.claim_retry_cap_seconds,
                timeout=settings.claim_timeout_seconds,
                max_connections=settings.concurrency,
                tracer_provider=tracer_provider,
            )
        self.generator = Generator(
            settings, self.llm, self.publishers, self.metrics, self.claims, spans
        )
        self.consumer = OrderedConsumer(
            ConsumerConfig(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topic=topics.generate_requested,
                group_id=settings.group_id,
                client_id=CLIENT_ID,
                concurrency=settings.concurrency,
                max_attempts=settings.max_attempts,
                rebalance_grace=settings.rebalance_grace_seconds,
                max_poll_interval_ms=settings.max_poll_interval_ms,
            ),
            handle=partial(handle_record, gen=self.generator),
            dead_letter=partial(dead_letter, gen=self.generator),
        )
        self.metrics.track_in_flight(lambda: self.consumer.in_flight)
        # Membership, polls and the committed-offset lag (bcrao_generator_consumer_lag).
        self.supervisor = ConsumerSupervisor(
            settings.kafka_bootstrap_servers,
            registry=registry,
            prefix="bcrao_generator",
            policy=SupervisionPolicy(
                rejoin_seconds=settings.consumer_rejoin_seconds,
                poll_seconds=settings.consumer_poll_seconds,
            ),
        )
        self.supervisor.watch(
            "generate-requested",
            topics=[topics.generate_requested],
            group=settings.group_id,
            current=lambda: self.consumer.consumer,
            recreate=self.consumer.restart,
        )

    @property
    def ready(self) -> bool:
        return self.consumer.ready and self.supervisor.ready()[0]

    async def start(self) -> None:
        await self.broker.start()
        await broker_tracks_its_topics(self.broker)
        await self.consumer.start()
        await self.supervisor.start()

    async def stop(self) -> None:
        """Drain (shutdown_grace_seconds), commit what finished, then close the clients."""
        grace = self.settings.shutdown_grace_seconds
        try:
            await self.supervisor.stop()
            # Bounded whatever the consumer is doing (a commit or a LeaveGroup to a coordinator
            # that does not answer): past it, nothing more is committed and the group
            # redelivers what did not finish.
            async with asyncio.timeout(grace + STOP_MARGIN_SECONDS):
                await self.consumer.stop(grace)
        except TimeoutError:
            log.error("consumer did not stop within %.0f s; abandoning it uncommitted", grace)
            with contextlib.suppress(Exception, TimeoutError):
                async with asyncio.timeout(STOP_MARGIN_SECONDS):
                    await self.consumer.abandon()
        finally:
            await self.broker.stop()
            if self.claims is not None:
                await self.claims.aclose()
            close = getattr(self.llm, "aclose", None)
            if close is not None:
                await close()
            if self.tracer_provider is not None:
                self.tracer_provider.shutdown()  # flushes the batched OTLP exports
