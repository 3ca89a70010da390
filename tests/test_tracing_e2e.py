"""One generation is one connected trace across the three services.

The gateway, the generator and draft-store run in this process (uvicorn servers on free ports in
the test's event loop), over the real broker (topics of the test's own prefix) and a throwaway
PostgreSQL database. Each service has its own TracerProvider (its own service.name), all writing
to one in-memory exporter. One generation goes through the gateway's public API and its SSE
stream is read to its end (`complete`; `error` for a gated request); then every span of the
three services must share one trace id and hang together (each parent is a span of the trace),
and each hop must be the child of the one before it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import jwt
import pytest
from bcrao_contracts import demo
from bcrao_draft_store.app import create_app as create_draft_store
from bcrao_draft_store.config import Settings as DraftStoreSettings
from bcrao_gateway.app import create_app as create_gateway
from bcrao_gateway.config import Settings as GatewaySettings
from bcrao_generator.app import create_app as create_generator
from bcrao_generator.config import Settings as GeneratorSettings
from bcrao_generator.llm import OfflineComposer
from bcrao_platform.settings import sqlalchemy_url
from bcrao_platform.tracing import configure_tracing
from bcrao_stacktest.inprocess import draft_store_database
from bcrao_testkit.servers import serve
from bcrao_testkit.sse_client import read_stream
from bcrao_testkit.topics import create_topics, drop_topics
from bcrao_testkit.waits import eventually as until
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import SecretStr

pytestmark = pytest.mark.integration

TOKEN = "tracing-service-token-" + secrets.token_hex(8)
JWT_SECRET = "tracing-jwt-secret-" + "t" * 32
USER = f"trace-{secrets.token_hex(4)}"


def user_token() -> str:
    now = int(time.time())
    claims = {"sub": USER, "iss": "bcrao-drafts", "aud": "bcrao-api", "iat": now, "exp": now + 600}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


async def ready(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as client, asyncio.timeout(60):
        while (await client.get("/readyz")).status_code != 200:
            await asyncio.sleep(0.1)


@asynccontextmanager
async def three_services(
    kafka: str, database: str, spans: InMemorySpanExporter
) -> AsyncIterator[str]:
    """The gateway's base URL while all three serve and are ready."""
    prefix = f"trace-{secrets.token_hex(4)}."
    await create_topics(kafka, prefix)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(drop_topics, kafka, prefix)
        store = create_draft_store(
            DraftStoreSettings(
                database_url=sqlalchemy_url(database),
                kafka_bootstrap_servers=kafka,
                topic_prefix=prefix,
                service_token=SecretStr(TOKEN),
                consumer_group=f"{prefix}draft-store",
                db_pool_size=2,
            ),
            tracer_provider=configure_tracing("draft-store", "test", exporter=spans),
        )
        store_url = await stack.enter_async_context(serve(store))
        generator = create_generator(
            GeneratorSettings(
                kafka_bootstrap_servers=kafka,
                topic_prefix=prefix,
                group_id=f"{prefix}generator",
                draft_store_url=store_url,
                draft_store_token=SecretStr(TOKEN),
                chunk_interval_ms=0,
                shutdown_grace_seconds=5,
            ),
            llm=OfflineComposer(chunk_delay_ms=0),
            tracer_provider=configure_tracing("generator", "test", exporter=spans),
        )
        generator_url = await stack.enter_async_context(serve(generator))
        gateway = create_gateway(
            GatewaySettings(
                kafka_bootstrap_servers=kafka,
                topic_prefix=prefix,
                draft_store_url=store_url,
                draft_store_token=SecretStr(TOKEN),
                jwt_secret=SecretStr(JWT_SECRET),
            ),
            tracer_provider=configure_tracing("api-gateway", "test", exporter=spans),
        )
        gateway_url = await stack.enter_async_context(serve(gateway))
        for url in (store_url, generator_url, gateway_url):
            await ready(url)
        yield gateway_url


async def create_campaign(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/campaigns", json=demo.CAMPAIGN.model_dump(mode="json"))
    assert response.status_code == 201, response.text
    campaign = str(response.json()["id"])
    for subreddit, profile in demo.PROFILES.items():
        put = await client.put(
            f"/v1/campaigns/{campaign}/profiles/{subreddit}", json=profile.model_dump(mode="json")
        )
        assert put.status_code in (200, 201), put.text
    return campaign


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


async def generation(
    kafka: str, database_url: str, request: dict[str, str], last: str, ends_with: list[str]
) -> tuple[ReadableSpan, list[ReadableSpan]]:
    """Runs one generation through the gateway's API, reads its stream to its `last` message,
    waits for the spans named in `ends_with`; returns the POST's span and its trace in order of
    start, checked to be connected and to hold every span of the generation."""
    spans = InMemorySpanExporter()
    with draft_store_database(database_url, "bcrao_trace") as database:
        async with three_services(kafka, database, spans) as gateway_url:
            headers = {"Authorization": f"Bearer {user_token()}"}
            async with httpx.AsyncClient(
                base_url=gateway_url, headers=headers, timeout=30
            ) as client:
                campaign = await create_campaign(client)
                spans.clear()  # the generation's trace only, not the set-up's requests
                accepted = await client.post(
                    f"/v1/campaigns/{campaign}/drafts/generate", json=request
                )
                assert accepted.status_code == 202, accepted.text
                stream = await read_stream(client, accepted.json()["stream_url"])
                assert stream.messages[-1].data["type"] == last, stream.body[-500:]
                # The delivery span ends as the event reaches the hub, before the stream
                # closes; draft-store reads the same event at about the same time.
                for name in ends_with:
                    await until(ended(spans, name), f"span {name!r}")

    generate = next(
        s
        for s in finished(spans)
        if s.kind == SpanKind.SERVER and s.name.startswith("POST ") and "generate" in s.name
    )
    trace_id = generate.context.trace_id
    trace = sorted(
        (s for s in finished(spans) if s.context.trace_id == trace_id),
        key=lambda s: s.start_time or 0,
    )
    names = [f"{service(s)}: {s.name}" for s in trace]
    print("\nspans of one generation, in order of start:\n  " + "\n  ".join(names))

    # Connected: one root (the gateway's POST), every other span's parent is in the trace.
    ids = {s.context.span_id for s in trace}
    roots = [s for s in trace if s.parent is None]
    assert roots == [generate], [f"{service(s)}: {s.name}" for s in roots]
    orphans = [f"{service(s)}: {s.name}" for s in trace if s.parent and s.parent.span_id not in ids]
    assert not orphans, orphans
    # Every span the three services made during the generation is in that one trace, except the
    # GET of the stream (a request of its own).
    stream_request = {
        s.context.trace_id for s in finished(spans) if s.kind == SpanKind.SERVER and "GET" in s.name
    }
    strays = [
        f"{service(s)}: {s.name} ({s.kind.name})"
        for s in finished(spans)
        if s.context.trace_id not in {trace_id} | stream_request
    ]
    assert not strays, strays
    assert {service(s) for s in trace} == {"api-gateway", "generator", "draft-store"}
    return generate, trace


def one(trace: list[ReadableSpan], where: str, kind: SpanKind, name: str) -> ReadableSpan:
    found = [s for s in trace if service(s) == where and s.kind == kind and name in s.name]
    listed = [f"{service(s)}: {s.name}" for s in trace]
    assert len(found) == 1, f"{len(found)} {kind.name} spans {name!r} of {where} in {listed}"
    return found[0]


def parent_of(trace: list[ReadableSpan], span: ReadableSpan) -> ReadableSpan:
    assert span.parent is not None
    return next(s for s in trace if s.context.span_id == span.parent.span_id)


async def test_one_generation_is_one_connected_trace_across_the_services(
    kafka_bootstrap: str, database_url: str
) -> None:
    request = {
        "subreddit": next(iter(demo.PROFILES)),
        "archetype": "ProblemSolution",
        "context": "Chasing late payments from clients eats my Fridays",
    }
    generate, trace = await generation(
        kafka_bootstrap, database_url, request, "complete", ["deliver DraftStored"]
    )

    def hop(where: str, kind: SpanKind, name: str) -> ReadableSpan:
        return one(trace, where, kind, name)

    def parent(span: ReadableSpan) -> ReadableSpan:
        return parent_of(trace, span)

    # The hops, each the child of the one before it across a service boundary (Kafka headers
    # or an HTTP call), found by service, kind and name.
    open_task = hop("draft-store", SpanKind.SERVER, "POST /internal/users/")
    assert parent(open_task).kind == SpanKind.CLIENT  # the gateway's httpx call
    assert parent(parent(open_task)) == generate
    publish = hop("api-gateway", SpanKind.PRODUCER, "drafts.generate-requested publish")
    assert parent(publish) == generate
    process = hop("generator", SpanKind.CONSUMER, "drafts.generate-requested process")
    assert parent(process) == publish
    claim = hop("draft-store", SpanKind.SERVER, "POST /internal/tasks/")
    assert service(parent(claim)) == "generator"
    llm = hop("generator", SpanKind.CLIENT, "llm complete")
    assert parent(llm) == process
    generated = hop("generator", SpanKind.PRODUCER, "drafts.generated publish")
    stored = hop("draft-store", SpanKind.CONSUMER, "drafts.generated process")
    assert parent(stored) == generated
    transaction = hop("draft-store", SpanKind.CLIENT, "drafts.generated store")
    assert parent(transaction) == stored
    stored_publish = hop("draft-store", SpanKind.PRODUCER, "drafts.stored publish")
    assert parent(stored_publish) == generated
    assert [link.context.span_id for link in stored_publish.links] == [stored.context.span_id]
    deliver = hop("api-gateway", SpanKind.CONSUMER, "deliver DraftStored")
    assert parent(deliver) == stored_publish


async def test_a_failed_generation_is_one_connected_trace_too(
    kafka_bootstrap: str, database_url: str
) -> None:
    """Gated (the profile blocks the archetype): GenerationFailed is the end of the trace, read
    by draft-store (which releases the unit) and delivered by the gateway as the stream's error."""
    request = {"subreddit": "selfhosted", "archetype": "Journey"}
    _, trace = await generation(
        kafka_bootstrap,
        database_url,
        request,
        "error",
        ["deliver GenerationFailed", "drafts.failed process"],
    )
    failed = one(trace, "generator", SpanKind.PRODUCER, "drafts.failed publish")
    released = one(trace, "draft-store", SpanKind.CONSUMER, "drafts.failed process")
    assert parent_of(trace, released) == failed
    assert parent_of(trace, one(trace, "draft-store", SpanKind.CLIENT, "drafts.failed store")) == (
        released
    )
    deliver = one(trace, "api-gateway", SpanKind.CONSUMER, "deliver GenerationFailed")
    assert parent_of(trace, deliver) == failed
    assert not [s for s in trace if "llm" in s.name], "a gated request never reaches the LLM"


def finished(spans: InMemorySpanExporter) -> tuple[ReadableSpan, ...]:
    return tuple(spans.get_finished_spans())


def ended(spans: InMemorySpanExporter, name: str) -> Callable[[], bool]:
    return lambda: any(name in s.name for s in finished(spans))
