"""Rule verdicts through the public API: a profile with community requirements saved through the
gateway, a draft generated from the task draft-store opened (the generator's real pipeline with
its offline composer, the draft stored by draft-store's own ingest step), then edits re-checked
rule by rule, the approve refusal listing the failed rules and the history keeping them. The
gateway runs over the real draft-store in-process and PostgreSQL; Kafka is not the subject (a
capturing publisher hands over the GenerateRequested)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.integration

from bcrao_contracts import demo  # noqa: E402
from bcrao_contracts.events import DraftGenerated, ProgressUpdated  # noqa: E402
from bcrao_draft_store import ingest  # noqa: E402
from bcrao_draft_store.db import unit_of_work  # noqa: E402
from bcrao_generator.llm import OfflineComposer  # noqa: E402
from bcrao_generator.pipeline import run_generation  # noqa: E402
from bcrao_generator.progress import Progress  # noqa: E402
from bcrao_stacktest.inprocess import (  # noqa: E402
    GatewayOverStore,
    draft_store_database,
    gateway_over_draft_store,
    gateway_settings,
)

JWT_SECRET = "verdicts-secret-" + "v" * 40
REQUIREMENTS = {
    "title_min_length": 10,
    "title_max_length": 120,
    "required_flairs": ["Question", "Feedback wanted"],
    "banned_title_words": ["PSA"],
    "banned_link_domains": ["bit.ly"],
}


@pytest.fixture(scope="module")
def store_database(database_url: str) -> Iterator[str]:
    with draft_store_database(database_url, "bcrao_verdicts") as url:
        yield url


@pytest.fixture(scope="module")
async def api(store_database: str) -> AsyncIterator[GatewayOverStore]:
    settings = gateway_settings(jwt_secret=JWT_SECRET, generate_rate_per_minute=1000)
    async with gateway_over_draft_store(store_database, settings) as stack:
        yield stack


async def _ignore(_event: ProgressUpdated) -> None:
    return None


async def _generated_draft(api: GatewayOverStore, who: dict[str, str]) -> dict[str, Any]:
    """A WarmingUp Journey draft for r/SaaS of the demo campaign, whose profile has rules."""
    campaign = await api.client.post(
        "/v1/campaigns", json=demo.CAMPAIGN.model_dump(mode="json"), headers=who
    )
    assert campaign.status_code == 201, campaign.text
    cid = campaign.json()["id"]
    profile = {**demo.PROFILES["SaaS"].model_dump(mode="json"), "requirements": REQUIREMENTS}
    saved = await api.client.put(f"/v1/campaigns/{cid}/profiles/SaaS", json=profile, headers=who)
    assert saved.status_code in (200, 201), saved.text
    assert saved.json()["requirements"]["required_flairs"] == ["Question", "Feedback wanted"]
    request = {"subreddit": "SaaS", "archetype": "Journey", "account_status": "WarmingUp"}
    accepted = await api.client.post(
        f"/v1/campaigns/{cid}/drafts/generate", json=request, headers=who
    )
    assert accepted.status_code == 202, accepted.text
    opened = api.publisher.events[-1]
    assert opened.profile is not None
    assert opened.profile.requirements is not None  # the rules travel with the request
    outcome = await run_generation(
        opened,
        llm=OfflineComposer(chunk_delay_ms=0),
        progress=Progress(opened.task_id, _ignore, interval=0),
    )
    assert isinstance(outcome, DraftGenerated), outcome
    async with unit_of_work(api.store_app.state.runtime.sessions) as session:
        stored = await ingest.store_generated(session, outcome)
    got = await api.client.get(f"/v1/drafts/{stored.draft.id}", headers=who)
    assert got.status_code == 200, got.text
    return dict(got.json())


async def test_a_generated_draft_and_its_edits_get_a_verdict_per_rule(
    api: GatewayOverStore,
) -> None:
    who = api.fresh_user()
    draft = await _generated_draft(api, who)
    rules = {v["rule"]: v for v in draft["validation"]["rule_verdicts"]}
    assert set(rules) == {
        "gating.zero_links", "gating.product_last_paragraph", "community.title_length",
        "community.banned_link_sites", "community.flair", "community.banned_title_words",
    }  # fmt: skip
    assert draft["flair"] in ("Question", "Feedback wanted")
    assert rules["community.flair"]["passed"] is True
    assert rules["gating.zero_links"]["passed"] is True  # links are removed before the check
    assert draft["needs_review"] is (
        any(not v["passed"] for v in rules.values())
        or any(h["severity"] == "high" for h in draft["validation"]["blacklist_hits"])
    )

    url = f"/v1/drafts/{draft['id']}"
    body = "Invoicely began as a spreadsheet.\n\nMore at https://bit.ly/inv\n\nThoughts?"
    edit = {"title": "PSA", "user_edits": body, "flair": "Memes"}
    saved = await api.client.patch(url, json=edit, headers=who)
    assert saved.status_code == 200, saved.text
    verdicts = {v["rule"]: v for v in saved.json()["edit_report"]["validation"]["rule_verdicts"]}
    failed = {rule for rule, v in verdicts.items() if not v["passed"]}
    assert failed == {
        "gating.zero_links", "gating.product_last_paragraph", "community.title_length",
        "community.banned_link_sites", "community.flair", "community.banned_title_words",
    }  # fmt: skip
    link = verdicts["gating.zero_links"]["locations"][0]
    assert body[link["start"] : link["end"]] == "https://bit.ly/inv"
    assert "WarmingUp" not in verdicts["gating.zero_links"]["reason"]  # words, not enum names
    assert "warming-up account" in verdicts["gating.zero_links"]["reason"]
    assert "r/SaaS wants 10–120" in verdicts["community.title_length"]["reason"]
    assert saved.json()["needs_review"] is True

    refused = await api.client.patch(url, json={"status": "approved"}, headers=who)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "CONFLICT"
    assert {f["rule"] for f in error["details"]["failed_rules"]} == failed

    confirmed = await api.client.patch(
        url, json={"status": "approved", "confirm_needs_review": True}, headers=who
    )
    assert confirmed.status_code == 200, confirmed.text
    entries = (await api.client.get(f"{url}/history", headers=who)).json()["entries"]
    assert [e["action"] for e in entries] == ["generated", "edited", "status_changed"]
    assert len(entries[1]["failed_rules"]) == len(failed)
    assert entries[2]["failed_rules"] == entries[1]["failed_rules"]
    assert entries[2]["confirmed_needs_review"] is True


async def test_bad_requirements_and_a_bad_flair_are_refused_in_the_envelope(
    api: GatewayOverStore,
) -> None:
    who = api.fresh_user()
    campaign = await api.client.post(
        "/v1/campaigns", json=demo.CAMPAIGN.model_dump(mode="json"), headers=who
    )
    cid = campaign.json()["id"]
    profile = {
        **demo.PROFILES["SaaS"].model_dump(mode="json"),
        "requirements": {"allowed_link_domains": ["not a site"]},
    }
    refused = await api.client.put(f"/v1/campaigns/{cid}/profiles/SaaS", json=profile, headers=who)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "not a site" in refused.text
    too_long = await api.client.patch(
        f"/v1/drafts/{'0' * 8}-0000-4000-8000-{'0' * 12}", json={"flair": "x" * 65}, headers=who
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "VALIDATION_ERROR"
