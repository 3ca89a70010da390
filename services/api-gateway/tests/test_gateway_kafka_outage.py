"""A real broker outage: a throwaway Kafka of this module's own (never the shared one) is stopped
and started again while the gateway's producer and stream reader run.

- while it is down the producer is known unreachable: publish refuses at once without handing the
  record to the client (so nothing goes out later), generate answers 503 before it reserves
  anything, and readiness fails;
- once it is back, publishing works again and the stream reader delivers new events, without a
  restart of anything.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any
from uuid import uuid4

import httpx
import pytest
from bcrao_contracts.events import GenerateRequested, parse_as
from bcrao_contracts.topics import Topics
from bcrao_gateway.app import create_app
from bcrao_gateway.config import Settings
from bcrao_gateway.publisher import KafkaPublisher, PublishError
from bcrao_gateway.streaming.hub import TaskHub
from bcrao_gateway.streaming.reader import StreamReader
from bcrao_gateway.streaming.settings import StreamSettings
from bcrao_platform.topics import ensure_topics
from bcrao_testkit import waits
from bcrao_testkit.chaos import LocalKafka
from bcrao_testkit.topics import read_records

from .conftest import CAMPAIGN, bearer, make_settings
from .streaming.conftest import TaskEvents

# A broker restart takes a while on this machine: a longer hang guard (not a speed bound).
eventually = partial(waits.eventually, hang_guard=60)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Iterator[LocalKafka]:
    # kafka_bootstrap: only where the shared broker runs does this machine have Kafka at all.
    kafka = LocalKafka(tmp_path_factory.mktemp("throwaway-kafka"))
    try:
        kafka.start()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot start a throwaway broker: {exc}")
    try:
        yield kafka
    finally:
        kafka.stop()


async def in_thread(call: Any) -> None:
    await asyncio.get_running_loop().run_in_executor(None, call)


def settings_for(broker: LocalKafka) -> Settings:
    return make_settings(
        kafka_bootstrap_servers=broker.bootstrap,
        topic_prefix=f"out{uuid4().hex[:8]}.",
        kafka_probe_seconds=0.5,
        publish_timeout_seconds=5.0,
    )


async def read_requests(settings: Settings, count: int) -> list[GenerateRequested]:
    topic = Topics(settings.topic_prefix).generate_requested
    records = await read_records(settings.kafka_bootstrap_servers, topic, count)
    return [parse_as(record.value, GenerateRequested) for record in records]


@pytest.fixture
async def running(broker: LocalKafka) -> AsyncIterator[tuple[Settings, KafkaPublisher]]:
    settings = settings_for(broker)
    # Provisioned like a deployment's: a topic auto-created by the first send has no leader yet.
    await ensure_topics(broker.bootstrap, settings.topic_prefix, partitions=4)
    publisher = KafkaPublisher(settings)
    supervisor = asyncio.create_task(publisher.run())
    try:
        await eventually(lambda: publisher.ready)
        yield settings, publisher
    finally:
        supervisor.cancel()
        await asyncio.gather(supervisor, return_exceptions=True)
        await publisher.stop()


async def test_an_outage_refuses_publishes_at_once_and_both_directions_resume_afterwards(
    broker: LocalKafka,
    running: tuple[Settings, KafkaPublisher],
    fake_store: Any,
    store: Any,
) -> None:
    settings, publisher = running
    stream = StreamSettings(reader_check_seconds=0.5, replay_seconds=60)
    hub = TaskHub(stream)
    reader = StreamReader(broker.bootstrap, Topics(settings.topic_prefix), hub, stream)
    app = create_app(settings, store=store, publisher=publisher)
    app.state.hub = hub
    app.state.stream_reader = reader
    alice = bearer(settings, "alice")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
    await reader.start()
    try:
        cid = (await http.post("/v1/campaigns", json=CAMPAIGN, headers=alice)).json()["id"]
        generate = f"/v1/campaigns/{cid}/drafts/generate"
        body = {"subreddit": "SaaS", "archetype": "Feedback"}
        assert (await http.post(generate, json=body, headers=alice)).status_code == 202
        await eventually(lambda: reader.healthy)
        assert (await http.get("/readyz")).status_code == 200

        await in_thread(broker.stop)
        await eventually(lambda: not publisher.reachable)
        await eventually(lambda: not reader.connected)
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["error"]["details"]["checks"] == {
            "kafka_producer": False,
            "stream_replay": True,
            "stream_reader": False,
        }
        opened = len(fake_store.tasks)
        refused = await http.post(generate, json=body, headers=alice)
        assert refused.status_code == 503
        assert refused.headers["retry-after"]
        assert len(fake_store.tasks) == opened  # refused before a unit was reserved
        assert fake_store.released == []
        with pytest.raises(PublishError) as raised:
            await publisher.publish(TaskEvents().status(1))
        assert raised.value.sent is False  # never handed to the client: it cannot go out later

        await in_thread(broker.start)
        await eventually(lambda: publisher.ready)
        assert (await http.post(generate, json=body, headers=alice)).status_code == 202
        requests = await read_requests(settings, 2)
        assert {str(r.task_id) for r in requests} == set(fake_store.tasks)

        after = TaskEvents()
        await publisher.publish(after.status(1))
        await eventually(lambda: hub.knows(after.task_id))
        await eventually(lambda: reader.healthy)
        assert (await http.get("/readyz")).status_code == 200
    finally:
        await http.aclose()
        await reader.stop()
