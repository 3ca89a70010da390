"""Profiles and blacklist entries only for the campaign's own subreddits, patterns RE2 can run,
profiles proposed from posts, and the generation topic (internal REST, real PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from bcrao_rules.context import CONTEXT_MIN
from bcrao_stacktest.factories import CAMPAIGN

PROFILE = {"isc_score": 6.4, "avg_sentence_length": 17.3, "formality_level": 7.9}
FIXTURES = Path(__file__).parents[3] / "libs" / "rules" / "tests" / "fixtures"


def base(user_id: str) -> str:
    return f"/internal/users/{user_id}"


async def _campaign(client: httpx.AsyncClient, user_id: str) -> str:
    response = await client.post(f"{base(user_id)}/campaigns", json=CAMPAIGN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _field_error(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    [item] = [e for e in error["details"]["errors"] if e["field"] == field]
    return dict(item)


async def test_profiles_and_entries_only_for_target_subreddits(
    client: httpx.AsyncClient, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    profile = await client.put(f"{base(user_id)}/campaigns/{cid}/profiles/python", json=PROFILE)
    item = _field_error(profile, "subreddit")
    assert "r/python is not one of this campaign's target subreddits" in item["message"]
    assert profile.json()["error"]["details"]["target_subreddits"] == [
        "SaaS", "freelance", "selfhosted",
    ]  # fmt: skip
    entry = await client.post(
        f"{base(user_id)}/campaigns/{cid}/blacklist",
        json={"pattern": "promo", "description": "d", "subreddit": "python"},
    )
    _field_error(entry, "subreddit")
    listed = await client.get(f"{base(user_id)}/campaigns/{cid}/profiles")
    assert listed.json()["profiles"] == []
    ok = await client.put(f"{base(user_id)}/campaigns/{cid}/profiles/r/Freelance", json=PROFILE)
    assert ok.status_code == 201
    assert ok.json()["subreddit"] == "freelance"  # stored under the campaign's own spelling


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(\w+) \1", "invalid escape sequence"), (r"(?=buy)buy", "invalid perl operator")],
)
async def test_a_pattern_re2_cannot_run_is_refused_naming_the_field(
    client: httpx.AsyncClient, user_id: str, pattern: str, reason: str
) -> None:
    cid = await _campaign(client, user_id)
    response = await client.post(
        f"{base(user_id)}/campaigns/{cid}/blacklist",
        json={"pattern": pattern, "kind": "regex", "description": "mine"},
    )
    item = _field_error(response, "pattern")
    assert reason in item["message"]
    assert response.json()["error"]["message"].startswith("pattern: ")
    # the catastrophic-but-valid pattern is accepted: RE2 runs it in linear time
    accepted = await client.post(
        f"{base(user_id)}/campaigns/{cid}/blacklist",
        json={"pattern": "(a+)+$", "kind": "regex", "description": "mine"},
    )
    assert accepted.status_code == 201


@pytest.mark.parametrize("fixture", ["pasted_posts.json", "reddit_listing.json"])
async def test_analyze_proposes_a_profile_without_saving_it(
    client: httpx.AsyncClient, user_id: str, fixture: str
) -> None:
    cid = await _campaign(client, user_id)
    payload = json.loads((FIXTURES / fixture).read_text())
    response = await client.post(
        f"{base(user_id)}/campaigns/{cid}/profiles/r/freelance/analyze", json=payload
    )
    assert response.status_code == 200, response.text
    proposal = response.json()
    assert proposal["subreddit"] == "freelance"
    assert proposal["sample_size"] == 12
    assert proposal["isc"]["value"] == 9.0  # worked in libs/rules/tests/test_analysis.py
    assert [c["name"] for c in proposal["isc"]["components"]] == [
        "jargon_sensitivity", "link_sensitivity", "vulnerability", "depth",
    ]  # fmt: skip
    assert all(c["explanation"] for c in proposal["isc"]["components"])
    assert (await client.get(f"{base(user_id)}/campaigns/{cid}/profiles")).json()["profiles"] == []
    saved = await client.put(
        f"{base(user_id)}/campaigns/{cid}/profiles/freelance", json=proposal["profile"]
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["isc_score"] == 9.0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "paste the posts' text"),
        ({"posts": []}, "no posts were found"),
        ({"posts": [{"title": "t", "score": "7"}] * 10}, "the pasted posts are invalid"),
        ({"data": {"children": [{"data": {"score": 1}}]}}, "not a Reddit listing"),
    ],
)
async def test_analyze_refuses_empty_and_malformed_input_clearly(
    client: httpx.AsyncClient, user_id: str, payload: Any, message: str
) -> None:
    cid = await _campaign(client, user_id)
    response = await client.post(
        f"{base(user_id)}/campaigns/{cid}/profiles/SaaS/analyze", json=payload
    )
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]


async def test_analyze_is_owner_only_and_target_only(
    client: httpx.AsyncClient, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    payload = json.loads((FIXTURES / "pasted_posts.json").read_text())
    other = await client.post(
        f"{base('someone-else')}/campaigns/{cid}/profiles/SaaS/analyze", json=payload
    )
    assert other.status_code == 404
    elsewhere = await client.post(
        f"{base(user_id)}/campaigns/{cid}/profiles/python/analyze", json=payload
    )
    _field_error(elsewhere, "subreddit")


async def test_a_context_too_short_is_refused_and_an_empty_one_gets_a_topic(
    client: httpx.AsyncClient, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    url = f"{base(user_id)}/campaigns/{cid}/tasks"
    request = {"subreddit": "SaaS", "archetype": "Feedback"}
    short = await client.post(url, json={**request, "context": "a"})
    item = _field_error(short, "context")
    assert f"at least {CONTEXT_MIN} characters" in item["message"]
    usage = (await client.get(f"{base(user_id)}/usage")).json()
    assert usage["drafts_used"] == 0  # a refusal costs nothing
    empty = await client.post(url, json=request)
    assert empty.status_code == 201, empty.text
    topic = empty.json()["context"]
    assert "invoicing, late payments and freelance clients" in topic  # the first keywords
    assert "r/SaaS" in topic
    assert CAMPAIGN["product_context"] not in topic  # never the product: New accounts use it too


async def test_an_entry_is_edited_with_the_rules_of_a_new_one(
    client: httpx.AsyncClient, user_id: str
) -> None:
    cid = await _campaign(client, user_id)
    made = await client.post(
        f"{base(user_id)}/campaigns/{cid}/blacklist",
        json={"pattern": "promo code", "description": "codes", "subreddit": "SaaS"},
    )
    assert made.status_code == 201, made.text
    entry = made.json()
    path = f"{base(user_id)}/blacklist/{entry['id']}"

    # Only the fields sent change; the answer has a new version; null scope is campaign-wide.
    changed = await client.patch(
        path,
        json={"kind": "regex", "pattern": r"(?i)promo code \w+", "severity": "high",
              "subreddit": None},
        headers={"If-Match": f'"{entry["version"]}"'},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    edited = changed.json()
    assert edited["id"] == entry["id"]
    assert (edited["kind"], edited["pattern"], edited["severity"]) == (
        "regex", r"(?i)promo code \w+", "high",
    )  # fmt: skip
    assert (edited["description"], edited["category"]) == ("codes", entry["category"])
    assert edited["subreddit"] is None
    assert edited["version"] != entry["version"]
    listed = (await client.get(f"{base(user_id)}/campaigns/{cid}/blacklist")).json()["entries"]
    assert edited in listed

    # A stale version: 412 with the entry as it is now, nothing changed.
    stale = await client.patch(
        path, json={"description": "late"}, headers={"If-Match": f'"{entry["version"]}"'}
    )
    assert stale.status_code == 412, stale.text
    assert stale.json()["error"]["details"] == {"current": edited, "version": edited["version"]}

    # The pattern is checked with the kind it will have: sent, or kept.
    refused = await client.patch(path, json={"pattern": r"(\w+) \1"})
    assert "invalid escape sequence" in _field_error(refused, "pattern")["message"]
    to_regex = await client.post(
        f"{base(user_id)}/campaigns/{cid}/blacklist", json={"pattern": "(", "description": "d"}
    )
    assert to_regex.status_code == 201, to_regex.text
    refused = await client.patch(
        f"{base(user_id)}/blacklist/{to_regex.json()['id']}", json={"kind": "regex"}
    )
    assert "missing )" in _field_error(refused, "pattern")["message"]
    outside = await client.patch(path, json={"subreddit": "python"})
    _field_error(outside, "subreddit")
    scoped = await client.patch(path, json={"subreddit": "r/freelance"})
    assert scoped.json()["subreddit"] == "freelance"
    for null in ("kind", "pattern", "description", "category", "severity"):
        _field_error(await client.patch(path, json={null: None}), f"body.{null}")

    # Another user's entry, a built-in one and a missing one are all "not found".
    other = await client.patch(f"{base('someone-else')}/blacklist/{entry['id']}", json={})
    assert other.status_code == 404
    global_id = next(e["id"] for e in listed if e["campaign_id"] is None)
    builtin = await client.patch(f"{base(user_id)}/blacklist/{global_id}", json={"pattern": "x"})
    assert builtin.status_code == 404
    missing = await client.patch(
        f"{base(user_id)}/blacklist/00000000-0000-4000-8000-000000000000", json={}
    )
    assert missing.status_code == 404

    # The next generation's event carries the entry as edited.
    task = await client.post(
        f"{base(user_id)}/campaigns/{cid}/tasks",
        json={"subreddit": "freelance", "archetype": "Feedback", "context": "late invoices"},
    )
    assert task.status_code == 201, task.text
    assert r"(?i)promo code \w+" in {e["pattern"] for e in task.json()["blacklist"]}
