"""The web UI in a real browser (Debian's chromium through playwright) against the real stack.

It lives beside the other end-to-end tests to share their session `stack` (three processes, the
real broker and database) and helpers. Chromium missing: skipped, except under CI=true, where it
is installed with apt-get (as root) or the test fails. Screenshots go to .state/ui-*.png.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bcrao_testkit.processes import Stack

from .conftest import ROOT, api, create_demo_campaign, token_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
SHOTS = ROOT / ".state"
TIMEOUT_MS = 60_000

# Records, inside the page, whether streamed text was on screen before the final draft was.
# Written to a data attribute so the test reads it without evaluating script under the page's CSP.
WATCH_LIVE_TEXT = """
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live-text");
  const result = document.getElementById("result");
  new MutationObserver(() => {
    if (live.textContent.length > 0 && !result.querySelector("[data-testid=draft]")) {
      document.documentElement.dataset.liveBeforeComplete = "yes";
    }
  }).observe(live, { childList: true, characterData: true, subtree: true });
});
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if not _in_ci():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing and cannot be installed here (need root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


def _page_problems(page: Any) -> list[str]:
    """Script errors and CSP violations; a failed fetch (404 profile, 409) is expected here."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message: Any) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    return problems


async def _wait_for_draft(page: Any) -> Any:
    draft = page.locator("#result [data-testid=draft]")
    await draft.wait_for(timeout=TIMEOUT_MS)
    return draft


async def test_ui_generates_streams_and_explains_refusals(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    base = stack.gateway.url
    index = httpx.get(base + "/", timeout=10)
    not_mounted = "the gateway does not serve the UI at / : mount_ui(app) missing from create_app?"
    assert index.status_code == 200, not_mounted
    assert "text/html" in index.headers["content-type"], not_mounted

    user = f"ui-{secrets.token_hex(4)}"
    token = token_for(stack, user)
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)

        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        problems = _page_problems(page)
        page.on("dialog", lambda dialog: dialog.accept())
        await page.add_init_script(WATCH_LIVE_TEXT)
        await page.goto(base + "/")

        # Token, campaign, profile.
        await page.fill("#token-input", token)
        await page.click("#token-form button[type=submit]")
        await expect(page.locator("#token-state")).to_contain_text(f"Signed in as {user}")
        await expect(page.locator("#campaign-select")).to_be_enabled()
        await page.select_option("#campaign-select", campaign)
        await expect(page.locator("#subreddit-chips")).to_contain_text("r/selfhosted")
        await expect(page.locator("#usage")).to_contain_text("0 / 10")
        await page.select_option("#subreddit-select", "SaaS")
        await expect(page.locator("#profile .isc-value")).to_have_text("6.4")
        await expect(page.locator("#profile .isc-tier")).to_have_text("High")

        # Generate r/SaaS ProblemSolution and watch it stream.
        await page.check("input[name=archetype][value=ProblemSolution]")
        await page.fill("#context-input", "Chasing late payments from clients eats my Fridays")
        await expect(page.locator("#context-counter")).to_have_text("50 / 2000")
        await expect(page.locator("#gating [data-gate=allowed]")).to_be_visible()
        await page.click("#generate-btn")
        draft = await _wait_for_draft(page)
        assert await page.locator("html").get_attribute("data-live-before-complete") == "yes", (
            "no streamed text was shown before the final draft"
        )
        await expect(page.locator("#stages .stage[data-state=done]")).to_have_count(7)
        await expect(page.locator("#connection")).to_have_text("Done")
        title = (await draft.locator(".draft-title").inner_text()).strip()
        assert title
        assert await draft.locator(".draft-body p").count() >= 3, "paragraphs not preserved"
        overall = await draft.locator("[data-testid=overall] .overall-value").inner_text()
        assert 0 <= float(overall) <= 10
        band = await draft.locator("[data-testid=overall] strong").inner_text()
        assert band.lower() in {"excellent", "good", "moderate", "low"}
        await expect(draft.locator(".score-row")).to_have_count(6)
        await expect(draft.locator(".model-used")).to_have_text("offline-composer")
        await expect(draft.locator(".validation")).to_contain_text("Blacklist hits")
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)
        await expect(page.locator("#drafts-list")).to_contain_text(title)
        await expect(page.locator("#usage")).to_contain_text("1 / 10")
        await page.screenshot(path=str(SHOTS / "ui-generated.png"), full_page=True)

        # r/selfhosted (ISC 8.1) Journey: explained and not submittable.
        await page.select_option("#subreddit-select", "selfhosted")
        await expect(page.locator("#profile .isc-tier")).to_have_text("Very High")
        await page.check("input[name=archetype][value=Journey]")
        gate = page.locator("#gating [data-gate=refused]")
        await expect(gate).to_have_attribute("data-code", "ISC_ARCHETYPE_BLOCKED")
        await expect(gate).to_contain_text("8.1")
        await expect(page.locator("[data-refused-tag=Journey]")).to_be_visible()
        await expect(page.locator("#generate-btn")).to_be_disabled()
        await page.screenshot(path=str(SHOTS / "ui-refused.png"), full_page=True)

        # The server still decides: r/freelance has no profile (neutral ISC 5.0, Journey allowed);
        # a profile loaded behind the page's back makes the server refuse, and the UI says why.
        await page.select_option("#subreddit-select", "freelance")
        await expect(page.locator("[data-testid=no-profile]")).to_contain_text("No profile")
        await expect(page.locator("#gating [data-gate=allowed]")).to_be_visible()
        hostile = {"isc_score": 9.0, "avg_sentence_length": 14.0, "formality_level": 6.0}
        put = await client.put(f"/v1/campaigns/{campaign}/profiles/freelance", json=hostile)
        assert put.status_code in (200, 201), put.text
        await page.click("#generate-btn")
        refusal = page.locator("#stream-error .error-box[data-code=ISC_ARCHETYPE_BLOCKED]")
        await expect(refusal).to_be_visible()
        await expect(refusal.locator(".forced-archetype")).to_have_text("Feedback")
        assert await refusal.locator(".constraints li").count() >= 1
        await expect(page.locator("#profile .isc-value")).to_have_text("9.0")  # refetched
        await expect(page.locator("#generate-btn")).to_be_disabled()
        await page.screenshot(path=str(SHOTS / "ui-server-refusal.png"), full_page=True)

        # Detail: regenerate with feedback, streamed the same way.
        await page.locator("#drafts-list .draft-item").first.click()
        await expect(page.locator("#detail-card")).to_be_visible()
        await page.fill("#feedback-input", "Shorter, and less about pricing")
        await page.click("#regenerate-btn")
        regenerated = await _wait_for_draft(page)
        await expect(regenerated.locator(".meta")).to_contain_text("regenerated")
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(2)

        # Edit, approve, then a conflict: discarded behind the page's back, "posted" is refused.
        await page.locator("#drafts-list .draft-item").first.click()
        await page.fill("#edit-input", "My own words.\n\nSecond paragraph, also mine.")
        await page.click("#edit-save")
        await expect(page.locator("#detail-view .badge-status-edited")).to_be_visible()
        await page.click("#status-actions [data-status=approved]")
        await expect(page.locator("#detail-view .badge-status-approved")).to_be_visible()
        draft_id = await page.locator("#detail-view [data-testid=draft]").get_attribute(
            "data-draft-id"
        )
        discarded = await client.patch(f"/v1/drafts/{draft_id}", json={"status": "discarded"})
        assert discarded.status_code == 200, discarded.text
        await page.click("#status-actions [data-status=posted]")
        conflict = page.locator("#detail-error .error-box[data-code=CONFLICT]")
        await expect(conflict).to_be_visible()
        await expect(page.locator("#detail-view .badge-status-discarded")).to_be_visible()
        await page.screenshot(path=str(SHOTS / "ui-conflict.png"), full_page=True)

        # Delete it (the confirm dialog is accepted).
        await page.click("#draft-delete")
        await expect(page.locator("#detail-card")).to_be_hidden()
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)
        await page.click("#status-filters [data-status=generated]")
        await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)
        await page.click("#status-filters [data-status=all]")

        # A phone-sized window: one column, nothing wider than the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.select_option("#subreddit-select", "SaaS")
        await expect(page.locator("#profile .isc-value")).to_have_text("6.4")
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide on a 390px screen"
        await page.screenshot(path=str(SHOTS / "ui-phone.png"), full_page=True)

        assert problems == []
