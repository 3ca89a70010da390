"""The web UI's main flow in a real browser (Debian's chromium through playwright) against the
real stack: sign in, pick a campaign, see the gating rule before submitting, watch a draft stream,
get refusals explained, regenerate, edit, approve, run into a conflict, delete, and a phone-sized
window. Screenshots go to screenshots/ (git-ignored).
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, token_for
from .ui_helpers import TIMEOUT_MS, confirm, page_problems, shot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# Records, inside the page, whether streamed text was on screen before the stored draft was, and
# whether the model's raw "Title:" line ever was. Data attributes, read without page script.
WATCH_LIVE_TEXT = """
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live-text");
  const result = document.getElementById("result");
  new MutationObserver(() => {
    if (live.textContent.length > 0 && !result.querySelector("[data-testid=draft]")) {
      document.documentElement.dataset.liveBeforeComplete = "yes";
    }
    if (/^\\s*title\\s*:/i.test(live.textContent)) {
      document.documentElement.dataset.titleLine = "yes";
    }
  }).observe(live, { childList: true, characterData: true, subtree: true });
});
"""


def _band(value: float, bands: list[dict[str, Any]]) -> str:
    """The band the rules give the value as displayed (one decimal)."""
    return next(b["label"] for b in bands if round(value, 1) >= b["min"])


async def _wait_for_draft(page: Any) -> Any:
    draft = page.locator("#result [data-testid=draft]")
    await draft.wait_for(timeout=TIMEOUT_MS)
    return draft


async def test_ui_generates_streams_and_explains_refusals(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    base = stack.gateway.url
    index = httpx.get(base + "/", timeout=10)
    assert index.status_code == 200, "the gateway does not serve the UI at /"
    assert "text/html" in index.headers["content-type"]

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        bands = (await client.get("/v1/rules")).json()["score_bands"]

        page = await signed_in_page(browser, base, token_for(stack, user), user)
        problems = page_problems(page)
        await page.add_init_script(WATCH_LIVE_TEXT)
        await page.reload()
        await expect(page.locator("#campaign-select")).to_be_enabled()
        await page.select_option("#campaign-select", campaign)
        await expect(page.locator("#subreddit-chips")).to_contain_text("r/selfhosted")
        await expect(page.locator("#usage")).to_contain_text("0 / 10")
        await page.select_option("#subreddit-select", "SaaS")
        await expect(page.locator("#profile .isc-value")).to_have_text("6.4")
        await expect(page.locator("#profile .isc-tier")).to_have_text("High")
        await expect(page.locator("#profile .isc-rule")).to_contain_text(
            "Every archetype is allowed"
        )

        # Too little context cannot be sent; the campaign's description is offered instead.
        await page.check("input[name=archetype][value=ProblemSolution]")
        await page.fill("#context-input", "a")
        await expect(page.locator("#context-hint")).to_contain_text("at least")
        await expect(page.locator("#generate-btn")).to_be_disabled()
        await page.fill("#context-input", "Chasing late payments from clients eats my Fridays")
        await expect(page.locator("#context-counter")).to_have_text("50 / 2000")
        await expect(page.locator("#gating [data-gate=allowed]")).to_be_visible()
        await page.click("#generate-btn")
        draft = await _wait_for_draft(page)
        html = page.locator("html")
        assert await html.get_attribute("data-live-before-complete") == "yes", "nothing streamed"
        assert await html.get_attribute("data-title-line") is None, "raw Title: line was shown"
        await expect(page.locator("#stream-notice")).to_contain_text("checked and lightly edited")
        await expect(page.locator("#stages .stage[data-state=done]")).to_have_count(7)
        await expect(page.locator("#connection")).to_have_text("Done")
        title = (await draft.locator(".draft-title").inner_text()).strip()
        assert title
        assert not title.lower().startswith("title:")
        assert await draft.locator(".draft-body p").count() >= 3, "paragraphs not preserved"
        overall = float(await draft.locator("[data-testid=overall] .overall-value").inner_text())
        band = await draft.locator("[data-testid=overall] strong").inner_text()
        assert band.lower() == _band(overall, bands)
        await expect(draft.locator(".score-row")).to_have_count(6)
        for why in await draft.locator(".score-row .score-why").all_inner_texts():
            assert why.strip(), "a score without its one-line explanation"
        await expect(draft.locator(".model-used")).to_have_text("offline-composer")
        await expect(draft.locator("[data-testid=generated-report]")).to_contain_text(
            "Blacklist hits"
        )
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)
        await expect(page.locator("#drafts-list")).to_contain_text(title)
        await expect(page.locator("#usage")).to_contain_text("1 / 10")
        await shot(page, "ui-generated")

        # r/selfhosted (ISC 8.1) Journey: explained, marked as refusing, and not submittable.
        await page.select_option("#subreddit-select", "selfhosted")
        await expect(page.locator("#profile .isc-tier")).to_have_text("Very High")
        await expect(page.locator("#profile .isc")).to_have_attribute("data-blocks", "yes")
        await page.check("input[name=archetype][value=Journey]")
        gate = page.locator("#gating [data-gate=refused]")
        await expect(gate).to_have_attribute("data-code", "ISC_ARCHETYPE_BLOCKED")
        await expect(gate).to_contain_text("8.1")
        await expect(page.locator("[data-refused-tag=Journey]")).to_be_visible()
        await expect(page.locator("#generate-btn")).to_be_disabled()
        await shot(page, "ui-refused")

        # r/freelance has no profile (neutral ISC, Journey allowed); a profile loaded in another
        # tab reaches this page by itself (the change feed), which then explains the refusal.
        await page.select_option("#subreddit-select", "freelance")
        await expect(page.locator("[data-testid=no-profile]")).to_contain_text("No profile")
        await expect(page.locator("#gating [data-gate=allowed]")).to_be_visible()
        hostile = {"isc_score": 9.0, "avg_sentence_length": 14.0, "formality_level": 6.0}
        put = await client.put(f"/v1/campaigns/{campaign}/profiles/freelance", json=hostile)
        assert put.status_code in (200, 201), put.text
        await expect(page.locator("#profile .isc-value")).to_have_text("9.0")  # refetched
        gate = page.locator("#gating [data-gate=refused]")
        await expect(gate).to_have_attribute("data-code", "ISC_ARCHETYPE_BLOCKED")
        await expect(page.locator("#generate-btn")).to_be_disabled()
        await shot(page, "ui-profile-changed-elsewhere")

        # Detail: regenerate with feedback, streamed the same way.
        await page.locator("#drafts-list .draft-item").first.click()
        await expect(page.locator("#detail-card")).to_be_visible()
        await page.fill("#feedback-input", "Shorter, and less about pricing")
        await page.click("#regenerate-btn")
        regenerated = await _wait_for_draft(page)
        await expect(regenerated.locator(".meta")).to_contain_text("regenerated")
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(2)

        # Edit, approve, then discarded behind the page's back: the page learns it by itself
        # (the change feed) and no longer offers "posted".
        await page.locator("#drafts-list .draft-item").first.click()
        await page.fill(
            "#edit-input", "My own words, nothing else.\n\nSecond paragraph, also mine."
        )
        await page.click("#edit-save")
        await expect(page.locator("#detail-view .badge-status-edited")).to_be_visible()
        needs_review = await page.locator("#detail-view .meta .badge-review").count()
        await page.click("#status-actions [data-status=approved]")
        if needs_review:
            await confirm(page)
        await expect(page.locator("#detail-view .badge-status-approved")).to_be_visible()
        draft_id = await page.locator("#detail-view [data-testid=draft]").get_attribute(
            "data-draft-id"
        )
        discarded = await client.patch(f"/v1/drafts/{draft_id}", json={"status": "discarded"})
        assert discarded.status_code == 200, discarded.text
        await expect(page.locator("#detail-view .badge-status-discarded")).to_be_visible()
        await expect(page.locator("#detail-notice")).to_contain_text("discarded in another tab")
        await expect(page.locator("#status-actions [data-status=posted]")).to_be_disabled()
        await shot(page, "ui-changed-elsewhere")

        # Delete it, after the page's own confirmation.
        await page.click("#draft-delete")
        await confirm(page)
        await expect(page.locator("#detail-card")).to_be_hidden()
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)
        await page.click("#status-filters [data-status=generated]")
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)
        await page.click("#status-filters [data-status=all]")
        await page.select_option("#subreddit-filter", "selfhosted")
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(0)
        await page.select_option("#subreddit-filter", "SaaS")
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)

        # A phone-sized window: one column, nothing wider than the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.select_option("#subreddit-select", "SaaS")
        await expect(page.locator("#profile .isc-value")).to_have_text("6.4")
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide on a 390px screen"
        await shot(page, "ui-phone")

        assert problems == []
