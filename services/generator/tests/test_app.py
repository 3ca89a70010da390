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
        lagged = dict(got)

        async def committed() -> bool:
            # Lag is end offset minus the group's committed offset, measured by the supervisor
            # every couple of seconds: wait for the measurement that follows the commit.
            nonlocal lagged
            scrape = await http.get("/metrics", headers={"authorization": "Bearer scrape-me"})
            lagged = samples(scrape.text)
            lags = [v for (name, _), v in lagged.items() if name == "bcrao_generator_consumer_lag"]
            return len(lags) == 2 and not any(lags)  # both partitions, both caught up

        await eventually(committed)

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


async def test_not_ready_while_the_consumer_has_no_partitions() -> None:
    s = settings("127.0.0.1:1", prefix())  # nothing listens: the consumer never gets a partition
    app = create_app(s, llm=OfflineComposer(chunk_delay_ms=0))
    transport = httpx.ASGITransport(app=app)  # no lifespan: the consumer is never started
    async with httpx.AsyncClient(transport=transport, base_url="http://generator") as http:
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "NOT_READY"
        assert (await http.get("/healthz")).status_code == 200


async def test_a_consumer_out_of_its_group_is_recreated_and_generates_again(
    kafka_bootstrap: str,
) -> None:
    """The generator's ordered consumer loses its membership (aiokafka's coordination routine
    dies, aio-libs/aiokafka#376/#582): /readyz turns 503, the supervisor recreates it after
    GENERATOR_CONSUMER_REJOIN_SECONDS, and a request sent meanwhile is generated."""
    from bcrao_testkit.kafka_faults import kill_membership

    p = prefix()
    topics = Topics(p)
    await create_generator_topics(kafka_bootstrap, topics, partitions=2)
    s = settings(kafka_bootstrap, p).model_copy(update={"consumer_rejoin_seconds": 3.0})
    app = create_app(s, llm=OfflineComposer(chunk_delay_ms=0))
    service = app.state.service
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        await eventually(ready)
        first = service.consumer.consumer
        kill_membership(first)

        async def not_ready() -> bool:
            return (await http.get("/readyz")).status_code == 503

        await eventually(not_ready, "not ready once the membership died")
        t = task(1)
        await produce(kafka_bootstrap, topics.generate_requested, [(t.key, t.to_json(), None)])
        await collect(kafka_bootstrap, [topics.generated], until=lambda r: len(r) >= 1)
        await eventually(ready, "ready again")
        assert service.consumer.consumer is not first
        recreated = samples((await http.get("/metrics")).text)
        key = ("bcrao_generator_consumer_recreated_total", (("consumer", "generate-requested"),))
        assert recreated[key] == 1
