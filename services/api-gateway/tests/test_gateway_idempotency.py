"""Idempotency-Key on generate and regenerate (ADR 0010): the gateway over the real draft-store
(real PostgreSQL), publishing to a capturing fake or, where the broker matters, the real Kafka.

A retry with the key answers the first attempt's task (same task_id, fresh stream URL), publishes
its GenerateRequested again only while it is queued, counts against neither the rate nor the
in-flight limit a second time, and a 503 leaves the key free for a real second attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bcrao_contracts.api import GenerateRequest
from bcrao_contracts.events import GenerateRequested, parse_as
from bcrao_contracts.topics import Topics
from bcrao_gateway.config import Settings
from bcrao_gateway.publisher import KafkaPublisher, PublishError
from bcrao_stacktest.factories import CAMPAIGN
from bcrao_stacktest.inprocess import GatewayOverStore, gateway_over_draft_store, gateway_settings
from bcrao_testkit.fakes import CapturingPublisher
from bcrao_testkit.topics import read_records

from .conftest import FlakyPublisher

pytestmark = pytest.mark.integration

REQUEST = {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing invoices"}
SECRET = "idempotency-secret-" + "i" * 32


def settings_with(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": SECRET,
        "max_in_flight": 20,
        "generate_rate_per_minute": 50,
        **overrides,
    }
    return gateway_settings(**values)


@pytest.fixture
async def stack(store_database: str) -> AsyncIterator[GatewayOverStore]:
    publisher = CapturingPublisher(PublishError)
    async with gateway_over_draft_store(
        store_database, settings_with(), publisher=publisher
    ) as running:
        yield running


class Client:
    """One user of the public API, with a campaign."""

    def __init__(self, stack: GatewayOverStore, user: str, campaign: str) -> None:
        self.stack, self.user, self.campaign = stack, user, campaign
        self.headers = stack.auth(user)

    @classmethod
    async def new(cls, stack: GatewayOverStore) -> Client:
        user = f"user-{uuid.uuid4().hex[:10]}"
        created = await stack.client.post("/v1/campaigns", json=CAMPAIGN, headers=stack.auth(user))
        assert created.status_code == 201, created.text
        return cls(stack, user, created.json()["id"])

    async def generate(self, key: str | None, **body: Any) -> httpx.Response:
        headers = {**self.headers, **({"Idempotency-Key": key} if key is not None else {})}
        return await self.stack.client.post(
            f"/v1/campaigns/{self.campaign}/drafts/generate",
            json={**REQUEST, **body},
            headers=headers,
        )

    async def used(self) -> int:
        usage = await self.stack.client.get("/v1/usage", headers=self.headers)
        return int(usage.json()["drafts_used"])

    async def drafts(self) -> list[dict[str, Any]]:
        listed = await self.stack.client.get(
            f"/v1/campaigns/{self.campaign}/drafts", headers=self.headers
        )
        return list(listed.json()["drafts"])


def published(stack: GatewayOverStore, task_id: str) -> int:
    return sum(1 for e in stack.publisher.events if str(e.task_id) == task_id)


async def test_a_retry_with_the_key_answers_the_same_task(stack: GatewayOverStore) -> None:
    client = await Client.new(stack)
    first = await client.generate("click-1")
    assert first.status_code == 202, first.text
    again = await client.generate("click-1")
    assert again.status_code == 202, again.text
    task_id = first.json()["task_id"]
    assert again.json()["task_id"] == task_id
    assert again.json()["stream_url"].startswith(first.json()["stream_url"].split("?")[0])
    assert await client.used() == 1
    # Still queued (no generator here): its GenerateRequested is sent again, harmless.
    assert published(stack, task_id) == 2
    metrics = (await stack.client.get("/metrics")).text
    assert "gateway_generate_replayed_total 1.0" in metrics

    # Once its draft is stored, a retry answers the task without sending anything.
    await stack.store_draft(stack.publisher.events[0])
    done = await client.generate("click-1")
    assert (done.status_code, done.json()["task_id"]) == (202, task_id)
    assert published(stack, task_id) == 2
    assert len(await client.drafts()) == 1
    assert await client.used() == 1


async def test_the_key_with_another_request_is_a_422(stack: GatewayOverStore) -> None:
    client = await Client.new(stack)
    assert (await client.generate("click-2")).status_code == 202
    other = await client.generate("click-2", archetype="Journey")
    assert other.status_code == 422, other.text
    error = other.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == {"reason": "idempotency_key_reused"}
    assert await client.used() == 1


@pytest.mark.parametrize("key", ["", "two words", "k" * 256, '"open', '"a\\"b"'])
async def test_a_malformed_key_is_a_422_envelope_and_opens_nothing(
    stack: GatewayOverStore, key: str
) -> None:
    client = await Client.new(stack)
    answer = await client.generate(key)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["errors"][0]["field"] == "header.Idempotency-Key"
    assert await client.used() == 0
    assert stack.publisher.events == []


async def test_a_quoted_key_is_the_same_key_bare(stack: GatewayOverStore) -> None:
    client = await Client.new(stack)
    bare = await client.generate("abc-123")
    quoted = await client.generate('"abc-123"')
    assert quoted.status_code == 202, quoted.text
    assert quoted.json()["task_id"] == bare.json()["task_id"]


async def test_a_task_opened_but_never_published_is_published_by_the_retry(
    stack: GatewayOverStore,
) -> None:
    """The first attempt died between opening and publishing (its gateway crashed): the retry
    finds the queued task and sends its GenerateRequested, once."""
    client = await Client.new(stack)
    opened = await stack.app.state.store.open_task(
        client.user, uuid.UUID(client.campaign), GenerateRequest(**REQUEST), "crashed"
    )
    assert not opened.replayed
    assert stack.publisher.events == []
    retry = await client.generate("crashed")
    assert retry.status_code == 202, retry.text
    assert retry.json()["task_id"] == str(opened.event.task_id)
    assert [str(e.task_id) for e in stack.publisher.events] == [retry.json()["task_id"]]
    await stack.store_draft(stack.publisher.events[0])
    assert [d["task_id"] for d in await client.drafts()] == [retry.json()["task_id"]]
    assert await client.used() == 1


async def test_after_a_503_the_same_key_is_a_new_attempt(stack: GatewayOverStore) -> None:
    """A failed publish releases the task and its key: the client was told nothing was
    accepted, so its retry with the key opens (and charges) one new task, never the dead one."""
    client = await Client.new(stack)
    stack.publisher.fail = True
    refused = await client.generate("after-outage")
    assert refused.status_code == 503, refused.text
    assert await client.used() == 0
    stack.publisher.fail = False
    retry = await client.generate("after-outage")
    assert retry.status_code == 202, retry.text
    assert [str(e.task_id) for e in stack.publisher.events] == [retry.json()["task_id"]]
    assert await client.used() == 1
    again = await client.generate("after-outage")
    assert again.json()["task_id"] == retry.json()["task_id"]
    assert await client.used() == 1


async def test_a_regeneration_retry_answers_the_same_task(stack: GatewayOverStore) -> None:
    client = await Client.new(stack)
    assert (await client.generate(None)).status_code == 202
    parent = await stack.store_draft(stack.publisher.events[0])
    url = f"/v1/drafts/{parent.id}/regenerate"
    headers = {**client.headers, "Idempotency-Key": "regen-click"}
    first = await stack.client.post(url, json={"feedback": "shorter"}, headers=headers)
    again = await stack.client.post(url, json={"feedback": "shorter"}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202), again.text
    assert again.json()["task_id"] == first.json()["task_id"]
    other = await stack.client.post(url, json={"feedback": "longer"}, headers=headers)
    assert other.status_code == 422
    assert await client.used() == 2


async def test_a_retry_uses_no_second_rate_unit(store_database: str) -> None:
    settings = settings_with(generate_rate_per_minute=2)
    async with gateway_over_draft_store(store_database, settings) as stack:
        client = await Client.new(stack)
        for key in ("r-1", "r-1", "r-1", "r-2"):
            answer = await client.generate(key)
            assert answer.status_code == 202, (key, answer.text)
        refused = await client.generate("r-3")
        assert refused.status_code == 429
        assert refused.json()["error"]["details"]["reason"] == "rate"
        # At the limit, a retry is still answered (draft-store is asked for the key's task only).
        assert (await client.generate("r-1")).status_code == 202
        assert (await client.generate("r-3")).status_code == 429
        assert await client.used() == 2


async def test_a_retry_holds_no_second_in_flight_place(store_database: str) -> None:
    settings = settings_with(max_in_flight=1)
    async with gateway_over_draft_store(store_database, settings) as stack:
        client = await Client.new(stack)
        first = await client.generate("f-1")
        assert first.status_code == 202, first.text
        limits = stack.app.state.limits
        assert limits.in_flight.count(client.user) == 1
        again = await client.generate("f-1")
        assert again.status_code == 202, again.text
        assert again.json()["task_id"] == first.json()["task_id"]
        assert limits.in_flight.count(client.user) == 1
        refused = await client.generate("f-2")
        assert refused.status_code == 429
        assert refused.json()["error"]["details"]["reason"] == "in_flight"
        assert await client.used() == 1


async def test_a_replay_goes_out_to_kafka_with_the_first_attempts_task(
    store_database: str, kafka_bootstrap: str
) -> None:
    """The real broker: a 503 (publish failed) and its retry with the key leave one live task,
    whose GenerateRequested is what the topic holds."""
    settings = settings_with(
        kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=f"idem{uuid.uuid4().hex[:8]}."
    )
    real = KafkaPublisher(settings)
    await real.start()
    publisher = FlakyPublisher(real)
    try:
        async with gateway_over_draft_store(store_database, settings, publisher=publisher) as stack:
            client = await Client.new(stack)
            publisher.fail = True
            assert (await client.generate("kafka-click")).status_code == 503
            publisher.fail = False
            accepted = await client.generate("kafka-click")
            assert accepted.status_code == 202, accepted.text
            replayed = await client.generate("kafka-click")
            assert replayed.json()["task_id"] == accepted.json()["task_id"]
            topic = Topics(settings.topic_prefix).generate_requested
            records = await read_records(kafka_bootstrap, topic, 2, hang_guard=30)
            events = [parse_as(r.value, GenerateRequested) for r in records]
            assert {str(e.task_id) for e in events} == {accepted.json()["task_id"]}
            assert await client.used() == 1
    finally:
        await real.stop()
