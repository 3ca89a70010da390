"""The page's own rules of presentation, run in the browser on the modules the page loads, with
the rules document the gateway serves: ISC shown so it never contradicts a threshold, bands on
the shown value, the model's title line kept out of the preview, every hit marked, gating that
agrees with the server's (bcrao_rules.gating) on every input, and the reconnection backoff."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_rules.gating import check_gating
from bcrao_testkit.processes import Stack

from .conftest import token_for
from .ui_helpers import signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture(scope="module")
async def ui(stack: Stack, _launched: Any) -> AsyncIterator[Any]:
    """One signed-in page for the module (on the worker's Chromium), its modules holding the
    gateway's rules document."""
    user = f"ui-{secrets.token_hex(4)}"
    page = await signed_in_page(_launched, stack.gateway.url, token_for(stack, user), user)
    try:
        await page.evaluate(
            "async () => { const r = await import('/ui/rules.js'); await r.loadRules(); }"
        )
        yield page
    finally:
        await page.context.close()


async def call(page: Any, module: str, function: str, *args: Any) -> Any:
    return await page.evaluate(
        "async ([module, name, args]) => (await import(`/ui/${module}`))[name](...args)",
        [module, function, list(args)],
    )


@pytest.mark.parametrize(
    ("isc", "shown", "tier"),
    [
        (6.4, "6.4", "High"),
        (7.0, "7.0", "Very High"),
        (7.5, "7.5", "Very High"),  # at the threshold: allowed, and shown as equal to it
        (7.54, "7.54", "Very High"),  # above it: never rounded down onto it
        (7.501, "7.501", "Very High"),
        (7.56, "7.6", "Very High"),
        (2.96, "2.96", "Low"),  # below the Low/Moderate boundary: not shown as 3.0
        (4.96, "4.96", "Moderate"),  # High starts at 5.0
        (5.04, "5.04", "High"),  # the elevated rule starts above 5.0
        (9.99, "10.0", "Very High"),
    ],
)
async def test_isc_is_shown_without_contradicting_its_rules(
    ui: Any, isc: float, shown: str, tier: str
) -> None:
    assert await call(ui, "rules.js", "formatIsc", isc) == shown
    assert await call(ui, "rules.js", "iscTier", isc) == tier


async def test_the_tier_and_the_gating_rule_agree(ui: Any) -> None:
    assert "Every archetype is allowed" in await call(ui, "rules.js", "iscRuleSentence", 7.0)
    assert "Every archetype is allowed" in await call(ui, "rules.js", "iscRuleSentence", 7.5)
    blocked = await call(ui, "rules.js", "iscRuleSentence", 7.54)
    assert "refused here" in blocked
    assert "Feedback" in blocked


@pytest.mark.parametrize(
    ("score", "band"),
    [(7.96, "excellent"), (8.0, "excellent"), (7.94, "good"), (3.96, "moderate"), (3.94, "low")],
)
async def test_bands_follow_the_value_as_shown(ui: Any, score: float, band: str) -> None:
    assert await call(ui, "rules.js", "scoreBand", score) == band


# Around every threshold of the rules document, and the ends of the scale.
GATING_ISC = (0.0, 2.99, 3.0, 3.01, 4.99, 5.0, 5.01, 7.49, 7.5, 7.51, 9.0, 10.0)


async def test_the_pages_gating_agrees_with_the_servers_on_every_input(ui: Any) -> None:
    """The page explains gating before a request is sent; bcrao_rules.gating decides it when the
    request arrives. Every archetype x account status x ISC around each threshold: the same
    refusal (code and forced archetype), and for an allowed request the same link and
    product-mention rules."""
    cases = [
        (isc, archetype.value, account.value)
        for isc in GATING_ISC
        for archetype in Archetype
        for account in AccountStatus
    ]
    shown = await ui.evaluate(
        """async (cases) => {
            const rules = await import('/ui/rules.js');
            return cases.map(([isc, arch, account]) => rules.gatingFor(isc, arch, account));
        }""",
        cases,
    )
    for (isc, archetype, account), gate in zip(cases, shown, strict=True):
        decision = check_gating(Archetype(archetype), AccountStatus(account), isc)
        where = f"{archetype}, {account}, ISC {isc}: page {gate}, server {decision}"
        refused = gate["refused"] or {}
        assert refused.get("code") == (decision.code.value if decision.code else None), where
        if not decision.allowed:
            assert decision.forced_archetype is not None
            assert refused["forced"] == decision.forced_archetype.value, where
            continue
        words = " ".join(gate["rules"]).lower()
        assert ("zero links" in words) == decision.zero_links, where
        assert ("no product pitch" in words) == (decision.product_mention == "none"), where
        assert ("last paragraph" in words) == (decision.product_mention == "last_paragraph"), where


@pytest.mark.parametrize(
    ("raw", "title", "body"),
    [
        ("Tit", "", ""),
        ("Title: Late payme", "Late payme", ""),
        ("Title: Late payments\n\nI keep", "Late payments", "I keep"),
        ("**Title:** Late payments**\nI keep", "Late payments", "I keep"),
        ("I keep chasing clients", "", "I keep chasing clients"),
        ("Titles are hard", "", "Titles are hard"),
    ],
)
async def test_the_preview_never_shows_the_title_line(
    ui: Any, raw: str, title: str, body: str
) -> None:
    assert await call(ui, "stream.js", "splitTitle", raw) == {"title": title, "body": body}


async def test_every_hit_is_marked_even_when_hits_overlap(ui: Any) -> None:
    text = "Check out my app, check out my notes"
    needles = [
        {"text": "check out my", "kind": "blacklist", "label": "a"},
        {"text": "my app", "kind": "blacklist", "label": "b"},
    ]
    ranges = await call(ui, "marks.js", "findRanges", text, needles)
    marked = [text[r["start"] : r["end"]] for r in ranges]
    assert marked == ["Check out my app", "check out my"]
    assert ranges[0]["label"] == "a; b"


async def test_reconnection_backs_off_up_to_a_cap(ui: Any) -> None:
    delays = [await call(ui, "sse.js", "backoffDelay", attempt) for attempt in range(8)]
    caps = [min(15000, 1000 * 2**attempt) for attempt in range(8)]
    for delay, cap in zip(delays, caps, strict=True):
        assert cap / 2 <= delay <= cap


async def test_pasted_posts_and_saved_listings_go_to_analyze_as_the_api_reads_them(
    ui: Any,
) -> None:
    posts = [{"title": "A", "body": "b", "score": 3, "num_comments": 1}]
    assert await call(ui, "profile_editor.js", "analyzeBody", posts) == {"posts": posts}
    listing = {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"title": "A"}}]}}
    assert await call(ui, "profile_editor.js", "analyzeBody", listing) == listing
    wrapped = {"posts": posts}
    assert await call(ui, "profile_editor.js", "analyzeBody", wrapped) == wrapped


async def test_a_generate_whose_answer_is_lost_is_sent_again_with_its_key(ui: Any) -> None:
    """The page's one click, whose 202 never reached it (the gateway did open the task): api()
    sends it again with the same Idempotency-Key and gets the same task (ADR 0010)."""
    from bcrao_contracts import demo

    campaign = await call(
        ui, "api.js", "api", "POST", "/v1/campaigns", demo.CAMPAIGN.model_dump(mode="json")
    )
    seen: list[tuple[str, str | None]] = []  # (what happened, the key it carried)
    first_answer: dict[str, Any] = {}

    async def lose_the_first_answer(route: Any) -> None:
        key = route.request.headers.get("idempotency-key")
        if not seen:
            response = await route.fetch()  # the gateway acts on it ...
            first_answer.update(await response.json())
            seen.append(("lost", key))
            await route.abort()  # ... and the page never hears back
            return
        seen.append(("passed", key))
        await route.continue_()

    pattern = "**/drafts/generate"
    await ui.route(pattern, lose_the_first_answer)
    try:
        body = {"subreddit": "SaaS", "archetype": "Feedback", "context": "one click, one draft"}
        accepted = await call(
            ui,
            "api.js",
            "api",
            "POST",
            f"/v1/campaigns/{campaign['id']}/drafts/generate",
            body,
            {"idempotent": True},
        )
    finally:
        await ui.unroute(pattern, lose_the_first_answer)
    assert [what for what, _ in seen] == ["lost", "passed"]
    keys = {key for _, key in seen}
    assert len(keys) == 1
    assert None not in keys
    assert accepted["task_id"] == first_answer["task_id"]
    usage = await call(ui, "api.js", "api", "GET", "/v1/usage")
    assert usage["drafts_used"] == 1


async def test_keys_are_uuids_also_without_crypto_random_uuid(ui: Any) -> None:
    """A page served over plain HTTP from another host has no crypto.randomUUID."""
    keys = await ui.evaluate(
        """async () => {
            const { newIdempotencyKey } = await import('/ui/api.js');
            const made = [newIdempotencyKey()];
            crypto.randomUUID = undefined;
            try { made.push(newIdempotencyKey(), newIdempotencyKey()); }
            finally { delete crypto.randomUUID; }
            return made;
        }"""
    )
    pattern = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert all(re.fullmatch(pattern, key) for key in keys), keys
    assert len(set(keys)) == 3
