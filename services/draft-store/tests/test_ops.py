"""Operations surface: liveness with the version, readiness at the migrated head with live
consumers, guarded metrics and internal docs, and a database outage that logs one line."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import httpx
import psycopg
import pytest
from bcrao_draft_store.app import create_app
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import upgrade
from bcrao_stacktest.factories import SERVICE_TOKEN, make_settings
from bcrao_testkit.databases import throwaway_database
from bcrao_testkit.waits import eventually
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

METRICS_TOKEN = "metrics-token-0123456789abcdef"
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@asynccontextmanager
async def serving(app: FastAPI, *, lifespan: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://draft-store") as client:
        if lifespan:
            async with app.router.lifespan_context(app):
                yield client
        else:
            yield client
    await app.state.runtime.engine.dispose()


async def test_healthz_names_the_version(settings: Settings) -> None:
    async with serving(create_app(settings)) as client:
        health = await client.get("/healthz")
    assert health.json() == {"status": "ok", "version": version("bcrao-draft-store")}


async def test_metrics_need_their_token_and_parse_as_prometheus(store_database: str) -> None:
    settings = make_settings(store_database, metrics_token=METRICS_TOKEN)
    async with serving(create_app(settings)) as client:
        refused = await client.get("/metrics")
        wrong = await client.get("/metrics", headers=SERVICE)  # the service token is not it
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert (refused.status_code, wrong.status_code, scraped.status_code) == (401, 401, 200)
    assert refused.json()["error"]["code"] == "AUTH_REQUIRED"
    names = {family.name for family in text_string_to_metric_families(scraped.text)}
    assert {
        "draft_store_drafts_stored",
        "draft_store_dead_letters",
        "draft_store_quota_refusals",
        "draft_store_batch_size",
        "draft_store_consumer_lag",
        "http_requests",
    } <= names


async def test_quota_refusals_are_counted_by_reason(settings: Settings, user_id: str) -> None:
    from bcrao_stacktest.factories import CAMPAIGN

    app = create_app(settings)
    async with serving(app) as client:
        base = f"/internal/users/{user_id}"
        campaign = (await client.post(f"{base}/campaigns", json=CAMPAIGN, headers=SERVICE)).json()
        body = {"subreddit": "SaaS", "archetype": "Journey"}
        url = f"{base}/campaigns/{campaign['id']}/tasks"
        answers = [
            (await client.post(url, json=body, headers=SERVICE)).status_code for _ in range(11)
        ]
    assert answers == [201] * 10 + [403]
    metrics = app.state.runtime.metrics
    assert metrics.value("draft_store_quota_refusals_total", reason="drafts_per_month") == 1
    assert metrics.value("draft_store_quota_refusals_total", reason="spend_cap") == 0


async def test_internal_docs_need_the_service_token_or_are_off(store_database: str) -> None:
    async with serving(create_app(make_settings(store_database))) as client:
        anonymous = await client.get("/openapi.json")
        document = await client.get("/openapi.json", headers=SERVICE)
        page = await client.get("/docs", headers=SERVICE)
        events = await client.get("/asyncapi.json", headers=SERVICE)
        events_anonymous = await client.get("/asyncapi.json")
    assert anonymous.status_code == 401
    assert document.status_code == 200
    assert "/internal/tasks/{task_id}/claim" in document.json()["paths"]
    assert page.status_code == 200
    assert events_anonymous.status_code == 401
    catalogue = events.json()
    assert catalogue["asyncapi"].startswith("3.")
    assert {"DraftGenerated", "GenerationFailed", "DraftStored"} <= set(
        catalogue["components"]["schemas"]
    )
    off = make_settings(store_database, docs_enabled=False)
    async with serving(create_app(off)) as client:
        assert (await client.get("/openapi.json", headers=SERVICE)).status_code == 404
        assert (await client.get("/docs", headers=SERVICE)).status_code == 404


@pytest.mark.parametrize("revision", ["0002", None], ids=["older", "never-migrated"])
async def test_readiness_needs_the_migrated_head(database_url: str, revision: str | None) -> None:
    def migrate(url: str) -> None:
        if revision is not None:
            upgrade(url, revision)

    with throwaway_database(database_url, "bcrao_ready", migrate) as url:
        async with serving(create_app(make_settings(url))) as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    details = ready.json()["error"]["details"]
    assert (details["database"], details["migrations"]) == (True, False)


async def test_readiness_accepts_a_schema_a_later_release_migrated(database_url: str) -> None:
    """During a rolling update the new release's migration runs first: this release, still
    serving, must stay ready on a revision it does not know (expand/contract, ADR 0007)."""

    def migrate_then_later_release(url: str) -> None:
        upgrade(url)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'f00d_a_later_release'")

    with throwaway_database(database_url, "bcrao_ready", migrate_then_later_release) as url:
        async with serving(create_app(make_settings(url))) as client:
            ready = await client.get("/readyz")
    details = ready.json()["error"]["details"]  # 503 here: no consumer runs in this test
    assert (details["database"], details["migrations"]) == (True, True)


@pytest.mark.integration
async def test_readiness_with_the_consumers_running(
    store_database: str, kafka_bootstrap: str
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = make_settings(
        store_database,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        consumer_group=f"draft-store-{prefix}",
    )
    app = create_app(settings)
    async with serving(app, lifespan=True) as client:

        async def answered_ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(answered_ready, "ready once both consumers hold their partitions")
        ready = await client.get("/readyz")
    body = ready.json()
    consumers = body.pop("consumers")
    assert body == {"status": "ready", "database": True, "migrations": True, "consumer": True}
    assert set(consumers) == {f"{prefix}drafts.generated", f"{prefix}drafts.failed"}
    assert all(c["assigned"] and c["polled"] and c["lag"] == 0 for c in consumers.values())


async def test_a_database_outage_answers_503_and_logs_one_line(
    database_url: str, user_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    missing = make_url(database_url).set(database=f"absent_{uuid.uuid4().hex[:8]}")
    settings = make_settings(missing.render_as_string(hide_password=False))
    caplog.set_level(logging.INFO)
    async with serving(create_app(settings)) as client:
        answer = await client.get(f"/internal/users/{user_id}/campaigns", headers=SERVICE)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert answer.json()["error"]["code"] == "UNAVAILABLE"
    ours = [r for r in caplog.records if r.name.startswith("bcrao_draft_store")]
    assert [(r.levelname, r.exc_info) for r in ours] == [("WARNING", None)]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_bad_setting_is_named_and_its_value_never_printed() -> None:
    import os
    import subprocess
    import sys

    secret = "short-" + uuid.uuid4().hex[:6]
    env = {
        **os.environ,
        "DRAFT_STORE_SERVICE_TOKEN": "s3cr3t-short",
        "DRAFT_STORE_METRICS_TOKEN": secret,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bcrao_draft_store"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "DRAFT_STORE_SERVICE_TOKEN" in done.stderr
    assert "DRAFT_STORE_METRICS_TOKEN" in done.stderr
    assert "s3cr3t-short" not in done.stderr
    assert secret not in done.stderr


@pytest.mark.integration
async def test_a_consumer_out_of_its_group_turns_readiness_off_and_lag_up_and_heals(
    store_database: str, kafka_bootstrap: str
) -> None:
    """The reported stall: the drafts.generated consumer's membership dies (as aiokafka's
    coordination routine does, aio-libs/aiokafka#376/#582) while records arrive. /readyz says
    so, draft_store_consumer_lag (committed vs end offsets) rises, and the supervisor recreates
    the consumer after DRAFT_STORE_CONSUMER_REJOIN_SECONDS, with no restart: ready again, lag 0."""
    from bcrao_testkit.kafka_faults import kill_membership
    from bcrao_testkit.topics import drop_topics

    from .kafka_helpers import publish

    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = make_settings(
        store_database,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        consumer_group=f"draft-store-{prefix}",
        consumer_rejoin_seconds=5,
    )
    generated = f"{prefix}drafts.generated"
    app = create_app(settings)
    [subscriber] = [
        s for s in app.state.runtime.broker.subscribers if generated in s.topic_names_for_subscribe
    ]

    async def scrape(client: httpx.AsyncClient) -> tuple[float, float]:
        text = (await client.get("/metrics")).text
        lag = recreated = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if (
                    sample.name == "draft_store_consumer_lag"
                    and sample.labels["topic"] == generated
                ):
                    lag += sample.value
                if sample.name == "draft_store_consumer_recreated_total":
                    recreated += sample.value
        return lag, recreated

    try:
        async with serving(app, lifespan=True) as client:

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually(ready, "ready")
            first = subscriber.consumer
            kill_membership(first)
            # Not parseable: once consumed they are dead-lettered and committed.
            await publish(kafka_bootstrap, generated, b"one", b"two", b"three")

            async def stalled_and_lagging() -> bool:
                answer = await client.get("/readyz")
                lag, _ = await scrape(client)
                return answer.status_code == 503 and lag >= 3

            await eventually(stalled_and_lagging, "not ready, lag rising")
            body = (await client.get("/readyz")).json()
            assert body["error"]["details"]["consumers"][generated]["assigned"] is False

            async def healed() -> bool:
                lag, recreated = await scrape(client)
                return await ready() and lag == 0 and recreated == 1

            await eventually(healed, "recreated by itself: ready, lag back to zero")
            assert subscriber.consumer is not first
    finally:
        await drop_topics(kafka_bootstrap, prefix)


@pytest.mark.integration
async def test_shutdown_ends_within_its_bound_when_a_consumer_never_stops(
    store_database: str, kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The reported SIGTERM hang: a consumer whose close never returns (a coordinator that does
    not answer). The lifespan's shutdown gives up after DRAFT_STORE_SHUTDOWN_SECONDS, says so,
    and returns; nothing was committed for what it abandoned."""
    import asyncio

    from bcrao_testkit.topics import drop_topics

    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = make_settings(
        store_database,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        consumer_group=f"draft-store-{prefix}",
        shutdown_seconds=1,
    )
    app = create_app(settings)
    never = asyncio.Event()
    try:
        async with serving(app, lifespan=True) as client:

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually(ready, "ready")
            consumer = app.state.runtime.broker.subscribers[0].consumer
            stop = consumer.stop

            async def stuck() -> None:
                await never.wait()  # the close that never returns

            consumer.stop = stuck
        # Reaching this line is the assertion: the lifespan's shutdown returned.
        assert "shutdown took longer than 1 s" in caplog.text
        await stop()  # the real close, so the test leaves no client behind
    finally:
        await drop_topics(kafka_bootstrap, prefix)
