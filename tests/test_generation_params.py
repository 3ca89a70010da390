"""One `GenerationParams` from the prompt to the stored draft and back to the same prompt.

draft-store opens a task and builds GenerateRequested; the generator's pipeline (the offline
composer as the model) renders the prompt from its `GenerationParams` and carries them in
DraftGenerated; draft-store decodes that event as its consumer does, stores the draft (real
PostgreSQL, a JSONB column) and serves it on its internal REST. The draft read back renders the
very prompt the model was given.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from bcrao_contracts.events import (
    DraftGenerated,
    GenerateRequested,
    ProgressUpdated,
    parse_as,
)
from bcrao_contracts.models import Draft
from bcrao_draft_store import ingest
from bcrao_draft_store.db import unit_of_work
from bcrao_draft_store.demo import seed_demo
from bcrao_generator.llm import LLMRequest, LLMResult, OfflineComposer, OnRestart, OnText
from bcrao_generator.pipeline import run_generation
from bcrao_generator.progress import Progress
from bcrao_generator.prompt import prompt_from_params
from bcrao_stacktest.inprocess import draft_store_app, draft_store_database, internal_client


class RecordingComposer:
    """The offline composer, remembering the prompt it was given."""

    name = "offline-composer"

    def __init__(self) -> None:
        self.calls: list[LLMRequest] = []
        self._composer = OfflineComposer(chunk_delay_ms=0)

    async def complete(
        self, call: LLMRequest, *, on_text: OnText, on_restart: OnRestart
    ) -> LLMResult:
        self.calls.append(call)
        return await self._composer.complete(call, on_text=on_text, on_restart=on_restart)


async def _ignore(_: ProgressUpdated) -> None:
    return None


@pytest.fixture(scope="module")
def store_database(database_url: str) -> Iterator[str]:
    with draft_store_database(database_url, "bcrao_params") as url:
        yield url


@pytest.mark.parametrize(
    "body",
    [
        {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing late invoices"},
        {"subreddit": "freelance", "archetype": "Journey", "account_status": "WarmingUp"},
    ],
    ids=["profile-and-blacklist", "no-profile-warming-up"],
)
async def test_the_stored_draft_renders_the_prompt_the_model_was_given(
    store_database: str, body: dict[str, str]
) -> None:
    store = draft_store_app(store_database)
    user = f"params-{uuid.uuid4().hex[:10]}"
    try:
        async with unit_of_work(store.state.runtime.sessions) as session:
            campaign_id = await seed_demo(session, user)
        async with internal_client(store) as internal:
            opened = await internal.post(
                f"/internal/users/{user}/campaigns/{campaign_id}/tasks", json=body
            )
            assert opened.status_code == 201, opened.text
            request = parse_as(opened.content, GenerateRequested)

            model = RecordingComposer()
            progress = Progress(request.task_id, _ignore, interval=0)
            outcome = await run_generation(request, llm=model, progress=progress)
            assert isinstance(outcome, DraftGenerated), outcome
            consumed = parse_as(outcome.to_json(), DraftGenerated)  # draft-store's decoder
            async with unit_of_work(store.state.runtime.sessions) as session:
                stored = await ingest.store_generated(session, consumed)

            read = await internal.get(f"/internal/users/{user}/drafts/{stored.draft.id}")
            assert read.status_code == 200, read.text
            draft = Draft.parse(read.content)  # what the gateway reads
    finally:
        await store.state.runtime.engine.dispose()

    assert draft.generation_params == outcome.draft.generation_params
    [call] = model.calls
    assert prompt_from_params(draft.generation_params).messages() == call.prompt.messages()
    assert draft.generation_params.subreddit == body["subreddit"]
    if body["subreddit"] == "SaaS":
        assert draft.generation_params.profile is not None
        assert draft.generation_params.blacklist  # the r/SaaS entries of the demo campaign
    else:
        assert draft.generation_params.profile is None
        assert draft.generation_params.campaign.product is not None
        assert draft.generation_params.campaign.product.product_url is None  # zero links
