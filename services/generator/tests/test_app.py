"""The generator's HTTP side: liveness with the version, readiness from the consumer, and
Prometheus metrics behind a bearer token, scraped after one real generation."""

from __future__ import annotations

from importlib.metadata import version

import httpx
import pytest
from bcrao_contracts.topics import Topics
from bcrao_generator.app import create_app
from bcrao_generator.llm import OfflineComposer
from bcrao_testkit.servers import serve
from bcrao_testkit.waits import eventually
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from .kafka_helpers import collect, create_generator_topics, prefix, produce
from .test_handlers import settings, task

pytestmark = pytest.mark.integration


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_health_readiness_and_metrics_after_one_generation(kafka_bootstrap: str) -> None:
    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=2)
    s = settings(kafka_bootstrap, p, metrics_token=SecretStr("scrape-me"))
    app = create_app(s, llm=OfflineComposer(chunk_delay_ms=0))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        health = (await http.get("/healthz")).json()
        assert health["version"] == version("bcrao-generator")

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        await eventually(ready)
        t = task(1)
        await produce(kafka_bootstrap, topics.generate_requested, [(t.key, t.to_json(), None)])
        await collect(kafka_bootstrap, [topics.generated], until=lambda r: len(r) >= 1)

        refused = await http.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "AUTH_REQUIRED"
        got: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

        async def handled() -> bool:
            # The terminal event can be read before its handler has returned: wait for that.
            nonlocal got
            scrape = await http.get("/metrics", headers={"authorization": "Bearer scrape-me"})
            got = samples(scrape.text)
            return got.get(("bcrao_generator_in_flight", ())) == 0 and any(
                name == "bcrao_generator_generations_total" for name, _ in got
            )

        await eventually(handled)

    generated = (("code", ""), ("outcome", "generated"))
    assert got[("bcrao_generator_generations_total", generated)] == 1
    assert got[("bcrao_generator_in_flight", ())] == 0
    topic = topics.generate_requested
    assert got[("bcrao_generator_events_consumed_total", (("topic", topic),))] == 1
    assert got[("bcrao_generator_events_produced_total", (("topic", topics.generated),))] == 1
    assert got[("bcrao_generator_events_produced_total", (("topic", topics.progress),))] >= 3
    handled = (("outcome", "generated"),)
    assert got[("bcrao_generator_handler_duration_seconds_count", handled)] == 1
    model = (("model", "offline-composer"),)
    assert got[("bcrao_generator_llm_time_to_first_token_seconds_count", model)] == 1
    lags = [v for (name, _), v in got.items() if name == "bcrao_generator_consumer_lag"]
    assert lags == [0]  # the one partition that had a record is caught up


async def test_not_ready_while_the_consumer_has_no_partitions() -> None:
    s = settings("127.0.0.1:1", prefix())  # nothing listens: the consumer never gets a partition
    app = create_app(s, llm=OfflineComposer(chunk_delay_ms=0))
    transport = httpx.ASGITransport(app=app)  # no lifespan: the consumer is never started
    async with httpx.AsyncClient(transport=transport, base_url="http://generator") as http:
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "NOT_READY"
        assert (await http.get("/healthz")).status_code == 200
