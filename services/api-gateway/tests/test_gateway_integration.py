"""The gateway against the real draft-store app (real PostgreSQL) and the real Kafka broker.

draft-store runs in-process behind httpx's ASGITransport, without its lifespan (no consumers):
this exercises the internal REST contract from the gateway's side, the quota, the release path,
and the acknowledged publish of GenerateRequested to a test-prefixed topic.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from bcrao_contracts.events import GenerateRequested, parse_as
from bcrao_contracts.topics import Topics
from bcrao_testkit.topics import read_records
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

from bcrao_gateway.app import create_app  # noqa: E402
from bcrao_gateway.auth import issue_user_token  # noqa: E402
from bcrao_gateway.config import Settings  # noqa: E402
from bcrao_gateway.publisher import KafkaPublisher  # noqa: E402
from bcrao_gateway.store_client import DraftStoreClient  # noqa: E402
from bcrao_gateway.streaming.hub import TaskHub  # noqa: E402
from bcrao_stacktest.factories import CAMPAIGN  # noqa: E402
from bcrao_stacktest.inprocess import gateway_over_draft_store  # noqa: E402
from bcrao_stacktest.inprocess import gateway_settings as inprocess_gateway_settings  # noqa: E402

from .conftest import FlakyPublisher  # noqa: E402
from .streaming.conftest import TaskEvents as StreamEvents  # noqa: E402

PROFILE = {"isc_score": 6.4, "avg_sentence_length": 17.3, "formality_level": 7.9}
REQUEST = {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing invoices"}


@pytest.fixture
def gateway_settings(kafka_bootstrap: str) -> Settings:
    return inprocess_gateway_settings(
        jwt_secret="integration-secret-" + "q" * 32,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"gw{uuid.uuid4().hex[:8]}.",
        max_in_flight=20,
        generate_rate_per_minute=50,
        # The topics of this test's prefix appear while it runs: pick them up quickly.
        stream={"reader_refresh_seconds": 0.5, "reader_check_seconds": 0.5},
    )


@pytest.fixture
async def gateway(
    gateway_settings: Settings, store_database: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FlakyPublisher]]:
    publisher = FlakyPublisher(KafkaPublisher(gateway_settings))
    await publisher.real.start()
    try:
        async with gateway_over_draft_store(
            store_database, gateway_settings, publisher=publisher
        ) as stack:
            stack.app.state.hub = TaskHub(gateway_settings.stream)  # no lifespan: nothing to replay
            stack.app.state.hub.mark_ready()
            yield stack.client, publisher
    finally:
        await publisher.real.stop()


def _auth(settings: Settings, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_user_token(settings, user)}"}


async def _consume(settings: Settings, count: int) -> list[GenerateRequested]:
    topic = Topics(settings.topic_prefix).generate_requested
    records = await read_records(settings.kafka_bootstrap_servers, topic, count, hang_guard=30)
    events = [parse_as(record.value, GenerateRequested) for record in records]
    for record, event in zip(records, events, strict=True):
        assert record.key == str(event.task_id).encode()
    return events


async def test_generate_through_draft_store_and_kafka(
    gateway: tuple[httpx.AsyncClient, FlakyPublisher], gateway_settings: Settings
) -> None:
    client, publisher = gateway
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    user = f"user-{uuid.uuid4().hex[:10]}"
    alice, bob = _auth(gateway_settings, user), _auth(gateway_settings, user + "-other")

    created = await client.post("/v1/campaigns", json=CAMPAIGN, headers=alice)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["target_subreddits"] == ["SaaS", "freelance", "selfhosted"]
    assert (await client.get(f"/v1/campaigns/{cid}", headers=bob)).status_code == 404

    put = await client.put(f"/v1/campaigns/{cid}/profiles/SaaS", json=PROFILE, headers=alice)
    assert put.status_code == 201, put.text
    entry = {"pattern": "check out my", "description": "self promotion", "subreddit": "SaaS"}
    added = await client.post(f"/v1/campaigns/{cid}/blacklist", json=entry, headers=alice)
    assert added.status_code == 201, added.text

    accepted = await client.post(
        f"/v1/campaigns/{cid}/drafts/generate", json=REQUEST, headers=alice
    )
    assert accepted.status_code == 202, accepted.text
    task_id = accepted.json()["task_id"]

    [event] = await _consume(gateway_settings, 1)
    assert str(event.task_id) == task_id
    assert event.user_id == user
    assert event.profile is not None
    assert event.profile.isc_score == 6.4
    assert "check out my" in [b.pattern for b in event.blacklist]

    usage = (await client.get("/v1/usage", headers=alice)).json()
    assert usage["drafts_used"] == 1

    publisher.fail = True
    refused = await client.post(f"/v1/campaigns/{cid}/drafts/generate", json=REQUEST, headers=alice)
    assert refused.status_code == 503
    assert refused.headers["retry-after"]
    assert (await client.get("/v1/usage", headers=alice)).json()["drafts_used"] == 1
    publisher.fail = False

    listed = await client.get(
        f"/v1/campaigns/{cid}/drafts", params={"status": "generated,edited"}, headers=alice
    )
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"drafts": [], "total": 0}


async def test_plan_limit_from_the_real_quota(
    gateway: tuple[httpx.AsyncClient, FlakyPublisher], gateway_settings: Settings
) -> None:
    client, _ = gateway
    alice = _auth(gateway_settings, f"user-{uuid.uuid4().hex[:10]}")
    cid = (await client.post("/v1/campaigns", json=CAMPAIGN, headers=alice)).json()["id"]
    url = f"/v1/campaigns/{cid}/drafts/generate"
    statuses = [
        (await client.post(url, json=REQUEST, headers=alice)).status_code for _ in range(11)
    ]
    assert statuses == [202] * 10 + [403]
    refused = await client.post(url, json=REQUEST, headers=alice)
    error = refused.json()["error"]
    assert error["code"] == "PLAN_LIMIT_REACHED"
    assert {"used", "limit", "plan", "resets_at"} <= set(error["details"])


async def test_lifespan_starts_producer_and_streaming(gateway_settings: Settings) -> None:
    """No injected store or publisher: the app builds its own and readiness reflects them."""
    settings = gateway_settings.model_copy(update={"draft_store_url": "http://127.0.0.1:1"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert isinstance(app.state.store, DraftStoreClient)
        assert hasattr(app.state, "hub")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:
            async with asyncio.timeout(20):
                while not app.state.publisher.ready:
                    await asyncio.sleep(0.1)
            async with asyncio.timeout(20):
                while not app.state.hub.ready:
                    await asyncio.sleep(0.1)
            async with asyncio.timeout(20):
                while not app.state.stream_reader.healthy:
                    await asyncio.sleep(0.1)
            async with asyncio.timeout(20):  # the consumer supervisor's next check saw it
                while not app.state.consumers.ready()[0]:
                    await asyncio.sleep(0.1)
            # draft-store is down, and that is not the gateway's readiness: streams still flow.
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {
                "kafka_producer": True,
                "stream_replay": True,
                "stream_reader": True,
                "consumers": True,
            }
            down = await client.get("/v1/usage", headers=_auth(settings, "alice"))
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "UNAVAILABLE"

            # What the reader consumes shows per topic; a poison record is dead-lettered.
            events = StreamEvents()
            await app.state.publisher.publish(events.status(1))
            producer = app.state.publisher.producer
            await producer.send_and_wait(Topics(settings.topic_prefix).stored, b"not json")
            async with asyncio.timeout(20):
                while app.state.dead_letters.written < 1 or not app.state.hub.knows(events.task_id):
                    await asyncio.sleep(0.1)
            text = (await client.get("/metrics")).text
            consumed = {
                sample.labels["topic"]: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "gateway_stream_events_consumed_total"
            }
            topics = Topics(settings.topic_prefix)
            assert consumed == {topics.progress: 1.0, topics.stored: 1.0}
            assert "gateway_dead_letters_written_total 1.0" in text
    assert app.state.publisher.ready is False
