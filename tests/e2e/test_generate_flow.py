"""The whole flow through three real processes, the real broker and the real database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from bcrao_testkit import fake_openai
from bcrao_testkit.processes import Stack
from bcrao_testkit.sse_client import Stream, read_stream

from .conftest import api, create_demo_campaign, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

STAGES = [
    "loading_profile",
    "checking_gating",
    "building_prompt",
    "generating",
    "validating",
    "scoring",
    "finishing",
]


def assert_well_formed(stream: Stream) -> None:
    assert stream.status_code == 200, stream.body[:500]
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.headers["x-accel-buffering"] == "no"
    assert all(frame.event is None for frame in stream.frames), "messages must be unnamed"
    ids = stream.ids
    assert ids == list(range(ids[0], ids[0] + len(ids))), f"ids not gap-free: {ids}"
    types = stream.types()
    assert sum(t in ("complete", "error") for t in types) == 1
    assert types[-1] in ("complete", "error")


async def drafts_used_reaches(client: httpx.AsyncClient, expected: int, timeout: float = 10) -> int:
    """The stream's `error` comes from the gateway reading GenerationFailed, and draft-store
    releases the unit when it reads the same event, a moment sooner or later: poll."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        used = int((await client.get("/v1/usage")).json()["drafts_used"])
        if used == expected or asyncio.get_running_loop().time() > deadline:
            return used
        await asyncio.sleep(0.1)


async def generate(client: httpx.AsyncClient, campaign: str, **body: str) -> dict[str, str]:
    response = await client.post(f"/v1/campaigns/{campaign}/drafts/generate", json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    return accepted


async def test_generate_streams_progress_and_stores_the_draft(stack: Stack) -> None:
    async with api(stack) as client:
        campaign = await create_demo_campaign(client)
        accepted = await generate(
            client,
            campaign,
            subreddit="r/SaaS",
            archetype="ProblemSolution",
            context="Chasing late payments from clients eats my Fridays",
        )
        stream = await read_stream(client, accepted["stream_url"])
        assert_well_formed(stream)
        assert stream.ids[0] == 1
        statuses = [m.data["stage"] for m in stream.messages if m.data["type"] == "status"]
        assert statuses == STAGES
        chunks = [m.data["content"] for m in stream.messages if m.data["type"] == "chunk"]
        assert len(chunks) >= 2
        complete = stream.messages[-1].data
        assert complete["type"] == "complete", complete
        draft = complete["draft"]
        assert draft["task_id"] == accepted["task_id"]
        assert draft["model_used"] == "offline-composer"
        assert draft["subreddit"] == "SaaS"
        assert draft["status"] == "generated"
        assert draft["title"]
        assert draft["body"].count("\n\n") >= 2

        listed = await client.get(f"/v1/campaigns/{campaign}/drafts")
        assert listed.status_code == 200
        assert [d["id"] for d in listed.json()["drafts"]] == [draft["id"]]
        fetched = await client.get(f"/v1/drafts/{draft['id']}")
        assert fetched.json()["body"] == draft["body"]

        usage = (await client.get("/v1/usage")).json()
        assert usage["drafts_used"] == 1
        assert usage["plan"] == "trial"


async def test_gated_request_ends_with_error_and_stores_nothing(stack: Stack) -> None:
    async with api(stack, "gated-user") as client:
        campaign = await create_demo_campaign(client)
        accepted = await generate(client, campaign, subreddit="selfhosted", archetype="Journey")
        stream = await read_stream(client, accepted["stream_url"])
        assert_well_formed(stream)
        error = stream.messages[-1].data
        assert error["type"] == "error"
        assert error["code"] == "ISC_ARCHETYPE_BLOCKED"
        assert error["details"]["forced_archetype"] == "Feedback"
        assert error["details"]["constraints"]
        assert "chunk" not in stream.types()
        listed = (await client.get(f"/v1/campaigns/{campaign}/drafts")).json()
        assert listed["total"] == 0
        assert await drafts_used_reaches(client, 0) == 0


async def test_another_user_cannot_stream_or_read(stack: Stack) -> None:
    async with api(stack, "owner") as owner, api(stack, "intruder") as intruder:
        campaign = await create_demo_campaign(owner)
        accepted = await generate(owner, campaign, subreddit="SaaS", archetype="Feedback")
        bare_url = accepted["stream_url"].split("?")[0]
        response = await intruder.get(bare_url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
        anonymous = await httpx.AsyncClient(base_url=stack.gateway.url).get(bare_url)
        assert anonymous.status_code == 401
        stream = await read_stream(owner, accepted["stream_url"])
        assert stream.types()[-1] == "complete"


@pytest.fixture(scope="module")
def openai_stack(kafka_bootstrap: str, database_url: str) -> Iterator[tuple[Stack, str]]:
    import asyncio
    import threading

    from bcrao_testkit.servers import free_port, serve

    port = free_port()
    ready = threading.Event()
    stop = threading.Event()

    def run() -> None:
        async def main() -> None:
            async with serve(fake_openai.create_app(chunk_delay=0.005), port=port):
                ready.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    env = {
        "GENERATOR_LLM_API_KEY": fake_openai.API_KEY,
        "GENERATOR_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "GENERATOR_LLM_MODEL": "gpt-4o-mini",
    }
    try:
        with running_stack(kafka_bootstrap, database_url, generator_env=env) as running:
            yield running, f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(10)


async def test_same_flow_through_the_openai_adapter(openai_stack: tuple[Stack, str]) -> None:
    stack, llm_url = openai_stack
    async with api(stack) as client:
        campaign = await create_demo_campaign(client)
        accepted = await generate(
            client, campaign, subreddit="SaaS", archetype="ProblemSolution", context="late invoices"
        )
        stream = await read_stream(client, accepted["stream_url"])
        assert_well_formed(stream)
        complete = stream.messages[-1].data
        assert complete["type"] == "complete", complete
        draft = complete["draft"]
        assert draft["model_used"] == "gpt-4o-mini"
        assert draft["token_count"] > 412
        assert draft["cost_usd"] > 0
        assert draft["title"] == "Two years of chasing late invoices taught me more than I wanted"
        async with httpx.AsyncClient() as plain:
            sent = (await plain.get(f"{llm_url}/_requests")).json()["requests"]
        assert len(sent) == 1
        system, user = sent[0]["messages"]
        assert "r/SaaS" in system["content"]
        assert "late invoices" in user["content"]
        assert "late invoices" not in system["content"]


async def test_one_idempotency_key_is_one_generation(openai_stack: tuple[Stack, str]) -> None:
    """Three sends of one click (one Idempotency-Key) at once, and one more after the draft is
    stored: one task, one LLM call, one stored draft, one unit (ADR 0010). The sends that find
    the task still queued publish its request again; the generator's claim, and its skipping a
    copy of a task it is generating, keep that to one generation."""
    stack, llm_url = openai_stack
    async with httpx.AsyncClient() as plain:
        calls_before = len((await plain.get(f"{llm_url}/_requests")).json()["requests"])
    async with api(stack, "idempotent-user") as client:
        campaign = await create_demo_campaign(client)
        url = f"/v1/campaigns/{campaign}/drafts/generate"
        body = {"subreddit": "SaaS", "archetype": "Feedback", "context": "late invoices again"}
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        sends = await asyncio.gather(
            *(client.post(url, json=body, headers=headers) for _ in range(3))
        )
        assert [s.status_code for s in sends] == [202] * 3, [s.text for s in sends]
        task_ids = {s.json()["task_id"] for s in sends}
        assert len(task_ids) == 1
        stream = await read_stream(client, sends[0].json()["stream_url"])
        assert_well_formed(stream)
        assert stream.messages[-1].data["type"] == "complete"
        later = await client.post(url, json=body, headers=headers)
        assert later.status_code == 202, later.text
        assert later.json()["task_id"] in task_ids
        replayed = await read_stream(client, later.json()["stream_url"])
        assert replayed.messages[-1].data["type"] == "complete"
        listed = (await client.get(f"/v1/campaigns/{campaign}/drafts")).json()
        assert [d["task_id"] for d in listed["drafts"]] == list(task_ids)
        assert (await client.get("/v1/usage")).json()["drafts_used"] == 1
    async with httpx.AsyncClient() as plain:
        calls_after = len((await plain.get(f"{llm_url}/_requests")).json()["requests"])
    assert calls_after - calls_before == 1


async def test_regeneration_links_its_parent_and_uses_only_this_rounds_feedback(
    stack: Stack,
) -> None:
    async with api(stack, "regen-user") as client:
        campaign = await create_demo_campaign(client)
        first = await generate(
            client, campaign, subreddit="SaaS", archetype="Journey", account_status="WarmingUp"
        )
        parent = (await read_stream(client, first["stream_url"])).messages[-1].data["draft"]

        feedback = "Shorter please, and less salesy"
        response = await client.post(
            f"/v1/drafts/{parent['id']}/regenerate", json={"feedback": feedback}
        )
        assert response.status_code == 202, response.text
        stream = await read_stream(client, response.json()["stream_url"])
        assert_well_formed(stream)
        child = stream.messages[-1].data["draft"]
        assert child["parent_draft_id"] == parent["id"]
        for kept in ("subreddit", "archetype", "account_status"):
            assert child[kept] == parent[kept]
        assert child["generation_params"]["feedback"] == feedback
        assert child["generation_params"]["context"] == parent["generation_params"]["context"]
        assert child["validation"]["link_count"] == 0  # WarmingUp still means zero links

        again = await client.post(f"/v1/drafts/{child['id']}/regenerate", json={})
        assert again.status_code == 202, again.text
        grandchild = (await read_stream(client, again.json()["stream_url"])).messages[-1].data
        params = grandchild["draft"]["generation_params"]
        assert params["feedback"] is None  # feedback does not pile up along the chain
        assert grandchild["draft"]["parent_draft_id"] == child["id"]
        for text in (grandchild["draft"]["title"], grandchild["draft"]["body"]):
            assert "None" not in text

        usage = (await client.get("/v1/usage")).json()
        assert usage["drafts_used"] == 3  # each regeneration takes a unit


async def test_llm_outage_ends_in_llm_unavailable_and_gives_the_unit_back(
    openai_stack: tuple[Stack, str],
) -> None:
    stack, llm_url = openai_stack
    async with httpx.AsyncClient() as plain:
        await plain.post(f"{llm_url}/_script", json={"behaviours": ["500"] * 6})
    async with api(stack, "outage-user") as client:
        campaign = await create_demo_campaign(client)
        accepted = await generate(client, campaign, subreddit="SaaS", archetype="Feedback")
        stream = await read_stream(client, accepted["stream_url"], timeout=90)
        assert_well_formed(stream)
        error = stream.messages[-1].data
        assert error["type"] == "error"
        assert error["code"] == "LLM_UNAVAILABLE"
        assert "sk-" not in error["message"]
        restarts = [m.data["reason"] for m in stream.messages if m.data["type"] == "restart"]
        assert len(restarts) == 5  # 3 attempts on the primary model, 3 on the fallback
        assert await drafts_used_reaches(client, 0) == 0
        assert (await client.get(f"/v1/campaigns/{campaign}/drafts")).json()["total"] == 0


async def test_regeneration_checks_gating_against_the_current_profile(stack: Stack) -> None:
    async with api(stack, "regen-gating-user") as client:
        campaign = await create_demo_campaign(client)
        first = await generate(client, campaign, subreddit="freelance", archetype="Journey")
        parent = (await read_stream(client, first["stream_url"])).messages[-1].data
        assert parent["type"] == "complete"
        assert parent["draft"]["warnings"] == ["no_profile"]

        # The community turns out to be hostile to marketing: r/freelance gets a profile.
        hostile = {"isc_score": 9.0, "avg_sentence_length": 14.0, "formality_level": 6.0}
        put = await client.put(f"/v1/campaigns/{campaign}/profiles/freelance", json=hostile)
        assert put.status_code == 201, put.text

        again = await client.post(f"/v1/drafts/{parent['draft']['id']}/regenerate", json={})
        assert again.status_code == 202, again.text
        stream = await read_stream(client, again.json()["stream_url"])
        assert_well_formed(stream)
        error = stream.messages[-1].data
        assert error["type"] == "error"
        assert error["code"] == "ISC_ARCHETYPE_BLOCKED"
        assert error["details"]["forced_archetype"] == "Feedback"
        assert await drafts_used_reaches(client, 1) == 1  # the refused regeneration cost nothing
