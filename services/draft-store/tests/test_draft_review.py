"""Edits are checked like drafts, approval of a draft that needs review is confirmed, and every
change is in the draft's history (internal REST, real PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from bcrao_contracts import demo
from bcrao_contracts.enums import Archetype
from bcrao_contracts.events import DraftGenerated
from bcrao_contracts.models import ValidationReport
from bcrao_draft_store import ingest
from bcrao_draft_store.db import unit_of_work
from bcrao_stacktest.factories import CAMPAIGN, draft_generated, generated_draft
from fastapi import FastAPI

PROMO = "Check out my app at https://invoicely.example/?utm_source=reddit, use my code REDDIT20!"


def base(user_id: str) -> str:
    return f"/internal/users/{user_id}"


async def _campaign(client: httpx.AsyncClient, user_id: str) -> dict[str, Any]:
    response = await client.post(f"{base(user_id)}/campaigns", json=CAMPAIGN)
    assert response.status_code == 201, response.text
    return response.json()


async def _store(
    app: FastAPI, task: dict[str, Any], user_id: str, campaign_id: str, **draft: Any
) -> dict[str, Any]:
    event = draft_generated(uuid.UUID(task["task_id"]), user_id, uuid.UUID(campaign_id))
    if draft:
        event = DraftGenerated(
            task_id=event.task_id,
            producer=event.producer,
            seq=event.seq,
            draft=generated_draft(user_id, uuid.UUID(campaign_id), **draft),
        )
    async with unit_of_work(app.state.runtime.sessions) as session:
        result = await ingest.store_generated(session, event)
    return result.draft.model_dump(mode="json")


async def _clean_draft(client: httpx.AsyncClient, app: FastAPI, user_id: str) -> dict[str, Any]:
    """A stored draft whose generated report has no hits (needs no review)."""
    campaign = await _campaign(client, user_id)
    task = await client.post(
        f"{base(user_id)}/campaigns/{campaign['id']}/tasks",
        json={"subreddit": "SaaS", "archetype": "Journey"},
    )
    assert task.status_code == 201, task.text
    return await _store(app, task.json(), user_id, campaign["id"], validation=ValidationReport())


async def _blacklist(
    client: httpx.AsyncClient, user_id: str, campaign_id: str, **entry: Any
) -> None:
    response = await client.post(f"{base(user_id)}/campaigns/{campaign_id}/blacklist", json=entry)
    assert response.status_code == 201, response.text


async def test_saved_edits_get_their_own_report_next_to_the_generated_one(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    draft = await _clean_draft(client, app, user_id)
    await _blacklist(client, user_id, draft["campaign_id"], pattern=r"(?i)use my code \w+",
                     kind="regex", description="discount codes", severity="high")  # fmt: skip
    url = f"{base(user_id)}/drafts/{draft['id']}"
    saved = await client.patch(
        url, json={"user_edits": draft["body"] + "\n\n" + PROMO, "title": "  My invoices  "}
    )
    assert saved.status_code == 200, saved.text
    edited = saved.json()
    assert edited["status"] == "edited"
    assert edited["user_title"] == "My invoices"
    assert edited["title"] == draft["title"]  # the generated title stays for comparison
    assert edited["validation"] == draft["validation"]  # and so does the generated report
    report = edited["edit_report"]
    assert report["title"] == "My invoices"
    assert report["validation"]["link_count"] == 1
    assert report["scores"]["link_penalty"] == 3.0
    hits = {(h["matched_text"], h["severity"]) for h in report["validation"]["blacklist_hits"]}
    assert ("use my code REDDIT20", "high") in hits
    assert report["validation"]["needs_review"] is True
    assert edited["needs_review"] is True
    assert "explanations" in report["scores"]["breakdown"]


async def test_approving_a_draft_that_needs_review_needs_a_confirmation(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    draft = await _clean_draft(client, app, user_id)
    await _blacklist(client, user_id, draft["campaign_id"], pattern="REDDIT20",
                     description="codes", severity="high")  # fmt: skip
    url = f"{base(user_id)}/drafts/{draft['id']}"
    refused = await client.patch(url, json={"user_edits": PROMO, "status": "approved"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["reason"] == "needs_review"
    assert error["details"]["report"] == "edit"
    high = error["details"]["high_severity_hits"]
    assert {"entry": "REDDIT20", "matched_text": "REDDIT20"} in high
    assert {"entry": "use my code", "matched_text": "use my code"} in high  # a global entry
    assert error["details"]["confirm_with"] == {"confirm_needs_review": True}
    unchanged = (await client.get(url)).json()
    assert (unchanged["status"], unchanged["user_edits"]) == ("generated", None)  # rolled back

    confirmed = await client.patch(
        url, json={"user_edits": PROMO, "status": "approved", "confirm_needs_review": True}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "approved"
    history = (await client.get(f"{url}/history")).json()["entries"]
    approval = history[-1]
    assert (approval["action"], approval["from_status"], approval["to_status"]) == (
        "status_changed", "edited", "approved",
    )  # fmt: skip
    assert approval["confirmed_needs_review"] is True
    assert approval["actor"] == user_id


async def test_an_edit_that_removes_the_hit_can_be_approved_without_confirming(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    task = await client.post(
        f"{base(user_id)}/campaigns/{campaign['id']}/tasks",
        json={"subreddit": "SaaS", "archetype": "Journey"},
    )
    draft = await _store(app, task.json(), user_id, campaign["id"])  # its report needs review
    url = f"{base(user_id)}/drafts/{draft['id']}"
    assert (await client.patch(url, json={"status": "approved"})).status_code == 409
    fixed = await client.patch(url, json={"user_edits": "I rewrote it in my own words."})
    assert fixed.json()["needs_review"] is False
    approved = await client.patch(url, json={"status": "approved"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"


async def test_history_records_who_changed_what_oldest_first(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    draft = await _clean_draft(client, app, user_id)
    url = f"{base(user_id)}/drafts/{draft['id']}"
    await client.patch(url, json={"title": "A better title"})
    await client.patch(
        url, json={"user_edits": draft["body"].replace("who owed", "which client owed")}
    )
    await client.patch(
        url, json={"user_edits": draft["body"].replace("who owed", "which client owed")}
    )
    await client.patch(url, json={"status": "approved"})
    await client.patch(url, json={"status": "approved"})  # no change, no entry
    await client.patch(url, json={"status": "posted"})

    history = (await client.get(f"{url}/history")).json()
    assert history["draft_id"] == draft["id"]
    moves = [(e["action"], e["from_status"], e["to_status"]) for e in history["entries"]]
    assert moves == [
        ("generated", None, "generated"),
        ("edited", "generated", "edited"),
        ("edited", "edited", "edited"),
        ("edited", "edited", "edited"),
        ("status_changed", "edited", "approved"),
        ("status_changed", "approved", "posted"),
    ]
    times = [e["at"] for e in history["entries"]]
    assert times == sorted(times)
    title_change, body_change, same_again = (e["changes"] for e in history["entries"][1:4])
    assert title_change == [
        {
            "field": "title",
            "before_length": len(draft["title"]),
            "after_length": len("A better title"),
            "diff": f"[{draft['title']} → A better title]",
        }
    ]
    assert [c["field"] for c in body_change] == ["user_edits"]
    assert "[who → which client]" in body_change[0]["diff"]
    assert same_again == []  # the same text saved again changes nothing
    assert {e["actor"] for e in history["entries"]} == {user_id}


async def test_another_users_history_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    draft = await _clean_draft(client, app, user_id)
    response = await client.get(f"{base('someone-else')}/drafts/{draft['id']}/history")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    missing = await client.get(f"{base(user_id)}/drafts/{uuid.uuid4()}/history")
    assert missing.status_code == 404


async def test_a_regeneration_appears_in_the_parents_history_and_links_back(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    parent = await _clean_draft(client, app, user_id)
    task = await client.post(
        f"{base(user_id)}/drafts/{parent['id']}/tasks", json={"feedback": "shorter please"}
    )
    assert task.status_code == 201, task.text
    params = demo.generation_params(
        uuid.UUID(parent["campaign_id"]),
        subreddit="SaaS",
        archetype=Archetype.JOURNEY,
        context="chasing invoices",
        feedback="shorter please",
        parent_draft_id=uuid.UUID(parent["id"]),
    )
    child = await _store(
        app,
        task.json(),
        user_id,
        parent["campaign_id"],
        parent_draft_id=uuid.UUID(parent["id"]),
        generation_params=params,
    )
    assert child["parent_draft_id"] == parent["id"]
    assert child["feedback"] == "shorter please"

    parent_history = (await client.get(f"{base(user_id)}/drafts/{parent['id']}/history")).json()
    regenerated = parent_history["entries"][-1]
    assert regenerated["action"] == "regenerated"
    assert regenerated["related_draft_id"] == child["id"]
    assert regenerated["feedback"] == "shorter please"
    child_history = (await client.get(f"{base(user_id)}/drafts/{child['id']}/history")).json()
    assert child_history["parent_draft_id"] == parent["id"]
    assert child_history["entries"][0]["related_draft_id"] == parent["id"]


async def test_a_title_that_is_only_spaces_is_refused(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    draft = await _clean_draft(client, app, user_id)
    url = f"{base(user_id)}/drafts/{draft['id']}"
    assert (await client.patch(url, json={"title": "   "})).status_code == 422
    assert (await client.patch(url, json={"title": "x" * 301})).status_code == 422
    refused = await client.patch(url, json={"status": "approved", "confirm_needs_review": "yes"})
    assert refused.status_code == 422


async def test_an_edit_gets_a_verdict_per_rule_kept_in_the_history(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    """A Warming-up draft (zero links, the product only at the end) in a community whose profile
    requires a flair and bans "PSA" in titles: each rule is re-checked on every edit."""
    named = {**CAMPAIGN, "product_context": demo.CAMPAIGN.product_context}  # "Invoicely is …"
    response = await client.post(f"{base(user_id)}/campaigns", json=named)
    campaign = response.json()
    profile = {**demo.PROFILES["SaaS"].model_dump(mode="json"), "requirements": {
        "required_flairs": ["Question", "Showcase"], "banned_title_words": ["PSA"]}}  # fmt: skip
    saved = await client.put(f"{base(user_id)}/campaigns/{campaign['id']}/profiles/SaaS",
                             json=profile)  # fmt: skip
    assert saved.status_code == 201, saved.text
    assert saved.json()["requirements"]["required_flairs"] == ["Question", "Showcase"]
    task = await client.post(
        f"{base(user_id)}/campaigns/{campaign['id']}/tasks",
        json={"subreddit": "SaaS", "archetype": "Journey", "account_status": "WarmingUp"},
    )
    params = demo.generation_params(
        uuid.UUID(campaign["id"]), subreddit="SaaS", archetype=Archetype.JOURNEY,
        account_status="WarmingUp", zero_links=True, product_mention="last_paragraph",
    )  # fmt: skip
    draft = await _store(app, task.json(), user_id, campaign["id"], validation=ValidationReport(),
                         generation_params=params, flair="Question")  # fmt: skip
    assert draft["flair"] == "Question"
    url = f"{base(user_id)}/drafts/{draft['id']}"

    body = "Invoicely started as a spreadsheet.\n\nNotes: https://notes.example.org/x\n\nThat's it."
    edited = await client.patch(
        url, json={"user_edits": body, "title": "PSA: my year", "flair": ""}
    )
    assert edited.status_code == 200, edited.text
    report = edited.json()["edit_report"]["validation"]
    verdicts = {v["rule"]: v for v in report["rule_verdicts"]}
    assert set(verdicts) == {
        "gating.zero_links", "gating.product_last_paragraph",
        "community.flair", "community.banned_title_words",
    }  # fmt: skip
    assert not any(v["passed"] for v in verdicts.values())
    link = verdicts["gating.zero_links"]["locations"][0]
    assert link["field"] == "body"
    assert body[link["start"] : link["end"]] == "https://notes.example.org/x"
    assert verdicts["gating.product_last_paragraph"]["locations"][0]["text"] == "Invoicely"
    assert verdicts["community.flair"]["allowed"] == ["Question", "Showcase"]
    assert report["blacklist_hits"] == []  # nothing on the blacklist: the rules alone decide
    assert edited.json()["needs_review"] is True
    assert edited.json()["flair"] is None

    refused = await client.patch(url, json={"status": "approved"})
    assert refused.status_code == 409
    failed = refused.json()["error"]["details"]["failed_rules"]
    assert [f["label"] for f in failed] == [
        "No links", "Product only in the last paragraph", "Post flair", "Words banned in titles",
    ]  # fmt: skip
    assert all(f["reason"] for f in failed)

    fixed = await client.patch(
        url,
        json={"user_edits": "It started as a spreadsheet.\n\nNow it is Invoicely.",
              "title": "My first year", "flair": "showcase"},
    )  # fmt: skip
    assert fixed.json()["needs_review"] is False
    assert all(v["passed"] for v in fixed.json()["edit_report"]["validation"]["rule_verdicts"])
    confirmed = await client.patch(url, json={"status": "approved"})
    assert confirmed.status_code == 200, confirmed.text

    entries = (await client.get(f"{url}/history")).json()["entries"]
    assert [(e["action"], e["failed_rules"]) for e in entries] == [
        ("generated", []),
        ("edited", ["No links", "Product only in the last paragraph", "Post flair",
                    "Words banned in titles"]),
        ("edited", []),
        ("status_changed", []),
    ]  # fmt: skip
    # The flair has its own optional field: an earlier gateway parses `changes` with two fields.
    assert {c["field"] for c in entries[1]["changes"]} == {"title", "user_edits"}
    assert entries[1]["flair_change"] == {"before": "Question", "after": ""}
    assert entries[2]["flair_change"] == {"before": "", "after": "showcase"}


async def test_a_confirmed_approval_keeps_the_failed_rules_in_the_history(
    client: httpx.AsyncClient, app: FastAPI, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    task = await client.post(
        f"{base(user_id)}/campaigns/{campaign['id']}/tasks",
        json={"subreddit": "SaaS", "archetype": "Journey", "account_status": "WarmingUp"},
    )
    params = demo.generation_params(uuid.UUID(campaign["id"]), subreddit="SaaS",
                                    account_status="WarmingUp", zero_links=True)  # fmt: skip
    draft = await _store(app, task.json(), user_id, campaign["id"], validation=ValidationReport(),
                         generation_params=params)  # fmt: skip
    url = f"{base(user_id)}/drafts/{draft['id']}"
    approved = await client.patch(
        url,
        json={"user_edits": "See https://x.example.org", "status": "approved",
              "confirm_needs_review": True},
    )  # fmt: skip
    assert approved.status_code == 200, approved.text
    approval = (await client.get(f"{url}/history")).json()["entries"][-1]
    assert approval["confirmed_needs_review"] is True
    assert approval["failed_rules"] == ["No links"]


async def test_a_profile_with_bad_requirements_is_refused(
    client: httpx.AsyncClient, user_id: str
) -> None:
    campaign = await _campaign(client, user_id)
    profile = {**demo.PROFILES["SaaS"].model_dump(mode="json"),
               "requirements": {"title_min_length": 90, "title_max_length": 20}}  # fmt: skip
    response = await client.put(
        f"{base(user_id)}/campaigns/{campaign['id']}/profiles/SaaS", json=profile
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "title_min_length" in response.text
