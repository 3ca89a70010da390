"""Optimistic concurrency through the public API, over the real draft-store and PostgreSQL:
every editable resource carries a version (the `ETag` header and the `version` field); a write
with a stale `If-Match` is a 412 with the current state; one without `If-Match` still applies.
Writes are announced on the caller's change feed, and only there. A campaign's generations under
way are listed; usage warns from 80 % and tells the per-minute limit."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest

pytestmark = pytest.mark.integration

from bcrao_contracts.sse import ChangeMessage  # noqa: E402
from bcrao_gateway.auth import verify_stream_token  # noqa: E402
from bcrao_gateway.changes import ChangeFeed  # noqa: E402
from bcrao_gateway.streaming import start_streaming  # noqa: E402
from bcrao_stacktest.factories import CAMPAIGN  # noqa: E402
from bcrao_stacktest.inprocess import (  # noqa: E402
    GatewayOverStore,
    gateway_over_draft_store,
    gateway_settings,
)

PROFILE = {"isc_score": 6.4, "avg_sentence_length": 17.3, "formality_level": 7.9}
REQUEST = {"subreddit": "SaaS", "archetype": "Feedback", "context": "chasing late invoices"}


@pytest.fixture(scope="module")
async def stack(store_database: str) -> AsyncIterator[GatewayOverStore]:
    settings = gateway_settings(
        jwt_secret="versions-secret-" + "v" * 40,
        generate_rate_per_minute=1000,
        max_in_flight=100,
        stream={"shutdown_farewell": False, "catch_up_wait_seconds": 0},
    )
    async with (
        gateway_over_draft_store(store_database, settings) as running,
        start_streaming(running.app, settings, reader=False),
    ):
        yield running


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    if status == 204:
        return {}
    body: dict[str, Any] = response.json()
    return body


def _stale(response: httpx.Response, current: dict[str, Any]) -> None:
    assert response.status_code == 412, response.text
    error = response.json()["error"]
    assert error["code"] == "PRECONDITION_FAILED"
    assert error["details"]["current"] == current
    assert error["details"]["version"] == current["version"]


async def _draft(stack: GatewayOverStore, auth: dict[str, str]) -> tuple[str, dict[str, Any]]:
    client = stack.client
    campaign = _ok(await client.post("/v1/campaigns", json=CAMPAIGN, headers=auth), 201)
    generate = f"/v1/campaigns/{campaign['id']}/drafts/generate"
    _ok(await client.post(generate, json=REQUEST, headers=auth), 202)
    stored = await stack.store_draft(stack.publisher.events[-1])
    draft = _ok(await client.get(f"/v1/drafts/{stored.id}", headers=auth))
    return campaign["id"], draft


async def test_a_stale_draft_write_is_refused_with_the_current_draft(
    stack: GatewayOverStore,
) -> None:
    client, auth = stack.client, stack.fresh_user()
    _, draft = await _draft(stack, auth)
    path = f"/v1/drafts/{draft['id']}"
    got = await client.get(path, headers=auth)
    assert got.headers["etag"] == f'"{draft["version"]}"'
    seen = draft["version"]

    # Tab A saves an edit from the version both tabs loaded.
    edited = await client.patch(
        path, json={"user_edits": "Tab A's words."}, headers={**auth, "If-Match": f'"{seen}"'}
    )
    a = _ok(edited)
    assert a["version"] != seen
    assert edited.headers["etag"] == f'"{a["version"]}"'

    # Tab B, still on the old version, can neither overwrite nor discard it.
    stale = {**auth, "If-Match": f'"{seen}"'}
    _stale(await client.patch(path, json={"user_edits": "Tab B's words."}, headers=stale), a)
    _stale(await client.patch(path, json={"status": "discarded"}, headers=stale), a)
    _stale(await client.delete(path, headers=stale), a)
    assert _ok(await client.get(path, headers=auth))["user_edits"] == "Tab A's words."
    history = _ok(await client.get(f"{path}/history", headers=auth))
    assert [e["action"] for e in history["entries"]].count("edited") == 1

    # With the current version it applies; `*` means "whatever exists"; no header still works.
    approved = _ok(
        await client.patch(
            path,
            json={"status": "approved", "confirm_needs_review": True},
            headers={**auth, "If-Match": f'W/"{a["version"]}"'},
        )
    )
    assert approved["status"] == "approved"
    kept = _ok(await client.patch(path, json={"flair": "Help"}, headers={**auth, "If-Match": "*"}))
    _ok(await client.patch(path, json={"flair": "Question"}, headers=auth))
    _stale(
        await client.delete(path, headers={**auth, "If-Match": f'"{kept["version"]}"'}),
        _ok(await client.get(path, headers=auth)),
    )
    current = _ok(await client.get(path, headers=auth))["version"]
    _ok(await client.delete(path, headers={**auth, "If-Match": f'"{current}"'}), 204)
    gone = await client.delete(path, headers={**auth, "If-Match": "*"})
    assert gone.status_code == 404


async def test_campaigns_profiles_and_blacklist_entries_take_if_match(
    stack: GatewayOverStore,
) -> None:
    client, auth = stack.client, stack.fresh_user()
    created = await client.post("/v1/campaigns", json=CAMPAIGN, headers=auth)
    campaign = _ok(created, 201)
    assert created.headers["etag"] == f'"{campaign["version"]}"'
    path = f"/v1/campaigns/{campaign['id']}"
    renamed = _ok(
        await client.patch(
            path, json={"name": "Spring"}, headers={**auth, "If-Match": f'"{campaign["version"]}"'}
        )
    )
    stale = {**auth, "If-Match": f'"{campaign["version"]}"'}
    _stale(await client.patch(path, json={"name": "Autumn"}, headers=stale), renamed)
    _stale(await client.delete(path, headers=stale), renamed)

    profile_path = f"{path}/profiles/SaaS"
    # If-Match on a profile that does not exist yet: nothing to match.
    missing = await client.put(profile_path, json=PROFILE, headers={**auth, "If-Match": "*"})
    assert missing.status_code == 412, missing.text
    assert missing.json()["error"]["details"] == {"current": None, "version": None}
    first = _ok(await client.put(profile_path, json=PROFILE, headers=auth), 201)
    got = await client.get(profile_path, headers=auth)
    assert got.headers["etag"] == f'"{first["version"]}"'
    second = _ok(
        await client.put(
            profile_path,
            json={**PROFILE, "isc_score": 8.0},
            headers={**auth, "If-Match": f'"{first["version"]}"'},
        )
    )
    _stale(
        await client.put(
            profile_path,
            json={**PROFILE, "isc_score": 2.0},
            headers={**auth, "If-Match": f'"{first["version"]}"'},
        ),
        second,
    )

    entry = _ok(
        await client.post(
            f"{path}/blacklist",
            json={"pattern": "check out my", "description": "self promotion"},
            headers=auth,
        ),
        201,
    )
    listed = _ok(await client.get(f"{path}/blacklist", headers=auth))["entries"]
    assert entry in listed
    entry_path = f"/v1/blacklist/{entry['id']}"
    _stale(await client.delete(entry_path, headers={**auth, "If-Match": '"other"'}), entry)
    _ok(await client.delete(entry_path, headers={**auth, "If-Match": f'"{entry["version"]}"'}), 204)

    # Another user naming A's real version learns nothing: 404 like a missing resource.
    other = stack.fresh_user()
    foreign = await client.patch(
        path, json={"name": "x"}, headers={**other, "If-Match": f'"{second["version"]}"'}
    )
    assert foreign.status_code == 404


async def test_a_blacklist_entry_is_edited_with_if_match_and_the_create_rules(
    stack: GatewayOverStore,
) -> None:
    user_id = f"user-{secrets.token_hex(4)}"
    client, auth = stack.client, stack.auth(user_id)
    campaign = _ok(await client.post("/v1/campaigns", json=CAMPAIGN, headers=auth), 201)
    feed: ChangeFeed = stack.app.state.changes
    announced: asyncio.Queue[ChangeMessage] = asyncio.Queue()

    async def follow() -> None:
        async for message in feed.follow(user_id):
            if message is not None and message.kind == "blacklist":
                await announced.put(message)

    watcher = asyncio.create_task(follow())
    await asyncio.sleep(0)  # subscribed
    entry = _ok(
        await client.post(
            f"/v1/campaigns/{campaign['id']}/blacklist",
            json={"pattern": "use my code", "description": "codes", "subreddit": "SaaS"},
            headers=auth,
        ),
        201,
    )
    path = f"/v1/blacklist/{entry['id']}"
    fresh = {**auth, "If-Match": f'"{entry["version"]}"'}
    change = {"kind": "regex", "pattern": r"(?i)use my code \w+", "description": "discount codes"}
    edited_response = await client.patch(path, json={**change, "subreddit": None}, headers=fresh)
    edited = _ok(edited_response)
    assert edited_response.headers["etag"] == f'"{edited["version"]}"'
    assert {k: edited[k] for k in change} == change
    # The owner's other pages hear of it (created, then changed) with the new version.
    created = await asyncio.wait_for(announced.get(), 5)
    changed = await asyncio.wait_for(announced.get(), 5)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    assert (created.action, changed.action) == ("created", "changed")
    assert (changed.id, changed.campaign_id) == (entry["id"], campaign["id"])
    assert changed.version == edited["version"]
    assert (edited["subreddit"], edited["severity"], edited["source"]) == (None, "medium", "user")
    listed = _ok(await client.get(f"/v1/campaigns/{campaign['id']}/blacklist", headers=auth))
    assert edited in listed["entries"]

    # The version it was made from is gone: 412 with the entry as it is now.
    _stale(await client.patch(path, json={"severity": "high"}, headers=fresh), edited)
    # A regex RE2 cannot run is refused like on create, naming the field.
    refused = await client.patch(
        path, json={"pattern": "(use)\\1"}, headers={**auth, "If-Match": f'"{edited["version"]}"'}
    )
    assert refused.status_code == 422, refused.text
    [item] = refused.json()["error"]["details"]["errors"]
    assert item["field"] == "pattern"
    assert "no backreferences" in item["message"]
    # Another user, knowing the id and the version, learns nothing: 404 like a missing entry.
    other = stack.fresh_user()
    foreign = await client.patch(
        path, json={"severity": "low"}, headers={**other, "If-Match": f'"{edited["version"]}"'}
    )
    assert foreign.status_code == 404, foreign.text
    assert foreign.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    after = _ok(await client.get(f"/v1/campaigns/{campaign['id']}/blacklist", headers=auth))
    assert after == listed


async def test_writes_reach_the_owners_change_feed_only(stack: GatewayOverStore) -> None:
    user_id, bystander_id = f"user-{secrets.token_hex(4)}", f"user-{secrets.token_hex(4)}"
    client, auth = stack.client, stack.auth(user_id)
    feed: ChangeFeed = stack.app.state.changes
    seen: list[ChangeMessage] = []
    strangers: list[ChangeMessage] = []
    got_discard = asyncio.Event()

    async def follow(user: str, into: list[ChangeMessage]) -> None:
        async for message in feed.follow(user):
            if message is not None:
                into.append(message)
                if message.action == "discarded":
                    got_discard.set()

    watchers = [
        asyncio.create_task(follow(user_id, seen)),
        asyncio.create_task(follow(bystander_id, strangers)),
    ]
    try:
        await asyncio.sleep(0)  # both subscribed
        campaign_id, draft = await _draft(stack, auth)
        path = f"/v1/drafts/{draft['id']}"
        edited = _ok(await client.patch(path, json={"user_edits": "new words"}, headers=auth))
        _ok(await client.patch(path, json={"status": "discarded"}, headers=auth))
        await asyncio.wait_for(got_discard.wait(), 5)
    finally:
        for watcher in watchers:
            watcher.cancel()
        for watcher in watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    kinds = [(m.kind, m.action) for m in seen]
    assert kinds == [("campaign", "created"), ("draft", "edited"), ("draft", "discarded")]
    assert seen[1].id == draft["id"]
    assert seen[1].campaign_id == campaign_id
    assert seen[1].version == edited["version"]
    assert strangers == []
    assert feed.subscribers() == 0


async def test_a_campaigns_in_flight_generations_are_listed_with_a_stream(
    stack: GatewayOverStore,
) -> None:
    user_id = f"user-{secrets.token_hex(4)}"
    client, auth = stack.client, stack.auth(user_id)
    campaign = _ok(await client.post("/v1/campaigns", json=CAMPAIGN, headers=auth), 201)
    generate = f"/v1/campaigns/{campaign['id']}/drafts/generate"
    first = _ok(await client.post(generate, json=REQUEST, headers=auth), 202)
    done = stack.publisher.events[-1]
    second = _ok(
        await client.post(generate, json={**REQUEST, "subreddit": "freelance"}, headers=auth), 202
    )
    await stack.store_draft(done)  # the first one landed: no longer in flight

    listed = _ok(await client.get(f"/v1/campaigns/{campaign['id']}/generations", headers=auth))
    [task] = listed["tasks"]
    assert task["task_id"] == second["task_id"]
    assert task["status"] == "queued"
    assert task["kind"] == "generate"
    assert task["subreddit"] == "freelance"
    assert task["archetype"] == REQUEST["archetype"]
    assert task["task_id"] != first["task_id"]
    # Its stream_url is the task's stream, signed for this user and this task.
    path, _, token = task["stream_url"].partition("?token=")
    assert path == f"/v1/campaigns/{campaign['id']}/drafts/generate/stream/{second['task_id']}"
    assert verify_stream_token(stack.settings, token, UUID(second["task_id"])) == user_id
    other = await client.get(
        f"/v1/campaigns/{campaign['id']}/generations", headers=stack.fresh_user()
    )
    assert other.status_code == 404


async def test_usage_warns_from_80_percent_and_says_what_is_left_this_minute(
    stack: GatewayOverStore,
) -> None:
    client, auth = stack.client, stack.fresh_user()
    campaign = _ok(await client.post("/v1/campaigns", json=CAMPAIGN, headers=auth), 201)
    generate = f"/v1/campaigns/{campaign['id']}/drafts/generate"
    per_minute = stack.settings.generate_rate_per_minute
    for used in range(1, 9):  # the trial plan has 10 drafts a month
        _ok(await client.post(generate, json=REQUEST, headers=auth), 202)
        usage = _ok(await client.get("/v1/usage", headers=auth))
        assert usage["drafts_used"] == used
        assert usage["drafts_warning"] is (used >= 8), usage
        assert usage["spend_warning"] is False
        assert usage["generate_per_minute"] == per_minute
        assert usage["generate_remaining_this_minute"] == per_minute - used


async def test_inputs_as_people_write_them_and_errors_that_name_the_entry(
    stack: GatewayOverStore,
) -> None:
    client, auth = stack.client, stack.fresh_user()
    created = _ok(
        await client.post(
            "/v1/campaigns", json={**CAMPAIGN, "product_url": "plotwise.app"}, headers=auth
        ),
        201,
    )
    assert created["product_url"] == "https://plotwise.app/"
    refused = await client.post(
        "/v1/campaigns",
        json={
            **CAMPAIGN,
            "keywords": ["a", "b", "c"],
            "target_subreddits": ["SaaS", "not a name!"],
            "product_url": "not a web address",
        },
        headers=auth,
    )
    assert refused.status_code == 422, refused.text
    errors = {e["field"]: e["message"] for e in refused.json()["error"]["details"]["errors"]}
    assert errors["body.keywords"] == "needs at least 5 entries (3 given)"
    assert errors["body.target_subreddits"].startswith("“not a name!” is not a subreddit name")
    assert errors["body.product_url"] == "is not a web address: write it like https://example.com"


async def test_the_pattern_preview_is_the_engine_that_checks_drafts(
    stack: GatewayOverStore,
) -> None:
    client, auth = stack.client, stack.fresh_user()

    async def preview(kind: str, pattern: str, text: str) -> dict[str, Any]:
        body = {"kind": kind, "pattern": pattern, "text": text}
        return _ok(await client.post("/v1/blacklist/preview", json=body, headers=auth))

    for pattern in (r"(a)\1", "foo(?=bar)"):  # a browser's engine runs these; RE2 does not
        refused = await preview("regex", pattern, "aa foobar")
        assert refused["matches"] == []
        assert "cannot be used" in refused["problem"]
    literal = await preview("literal", "check out my", "Check out my app. checkout my")
    assert [m["text"] for m in literal["matches"]] == ["Check out my"]
    assert literal["case_sensitive"] is False
    exact = await preview("regex", "Foo", "foo Foo")
    assert [(m["start"], m["text"]) for m in exact["matches"]] == [(4, "Foo")]
    assert exact["case_sensitive"] is True
    folded = await preview("regex", "(?i)Foo", "🙂 foo Foo")
    assert [(m["start"], m["text"]) for m in folded["matches"]] == [(2, "foo"), (6, "Foo")]
    assert folded["case_sensitive"] is False
    assert (await preview("literal", "caf", "café"))["matches"] == []
    anonymous = await client.post("/v1/blacklist/preview", json={"pattern": "x", "text": "x"})
    assert anonymous.status_code == 401


async def test_the_draft_list_searches_sorts_and_filters(stack: GatewayOverStore) -> None:
    client, auth = stack.client, stack.fresh_user()
    campaign = _ok(await client.post("/v1/campaigns", json=CAMPAIGN, headers=auth), 201)
    generate = f"/v1/campaigns/{campaign['id']}/drafts/generate"
    ids = []
    for _ in range(3):
        _ok(await client.post(generate, json=REQUEST, headers=auth), 202)
        ids.append(str((await stack.store_draft(stack.publisher.events[-1])).id))
    _ok(
        await client.patch(
            f"/v1/drafts/{ids[0]}", json={"title": "Invoices at 100% midnight"}, headers=auth
        )
    )
    _ok(
        await client.patch(
            f"/v1/drafts/{ids[1]}", json={"user_edits": "All about PRICING."}, headers=auth
        )
    )
    listing = f"/v1/campaigns/{campaign['id']}/drafts"

    async def found(**params: Any) -> list[str]:
        body = _ok(await client.get(listing, params=params, headers=auth))
        assert body["total"] == len(body["drafts"])
        return [d["id"] for d in body["drafts"]]

    assert await found(q="100% midnight") == [ids[0]]
    assert await found(q="100_") == []  # % and _ are text, not wildcards
    assert await found(q="pricing") == [ids[1]]
    assert await found(sort="oldest") == ids
    assert await found() == ids[::-1]
    archetype = _ok(await client.get(f"/v1/drafts/{ids[0]}", headers=auth))["archetype"]
    other = next(a for a in ("Journey", "Feedback", "ProblemSolution") if a != archetype)
    assert sorted(await found(archetype=archetype)) == sorted(ids)
    assert await found(archetype=other) == []
    review = await found(needs_review="true")
    calm = await found(needs_review="false")
    assert sorted(review + calm) == sorted(ids)
    scored = _ok(await client.get(listing, params={"sort": "score"}, headers=auth))["drafts"]

    def overall(draft: dict[str, Any]) -> float:
        report = draft["edit_report"] or draft
        return float(report["scores"]["overall"])

    assert [overall(d) for d in scored] == sorted((overall(d) for d in scored), reverse=True)
    bad = await client.get(listing, params={"sort": "random"}, headers=auth)
    assert bad.status_code == 422
