"""Checks of the whole page in Chromium, over the three real services: no element sticks out of
its card at 1024, 1400 and 1920 px (with a draft open, its edit and generated reports side by
side), and axe-core finds no serious or critical accessibility violation (desktop and phone),
also on the style guide form, a blacklist entry being edited and the draft list's bulk actions.

axe-core comes from npm at the version locked in tests/e2e/a11y (scripts/bootstrap.sh installs
it); it runs inside the page, offline."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from bcrao_testkit.processes import Stack

from .conftest import ROOT, api, create_demo_campaign, generated_draft, token_for
from .ui_helpers import SHOTS, confirm, page_problems, shot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

AXE = ROOT / "tests" / "e2e" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
EDIT = (
    "I keep losing my Fridays to chasing invoices, and a very long unbroken word like "
    "https://invoicely.example.com/pricing?utm_source=reddit&utm_medium=post-from-a-founder "
    "should wrap.\n\nCheck out my app, it fixed this for me."
)

# Every visible element of a card that sticks out of the card's box (more than 1 px), unless a
# scrolling or clipping box between them holds it (that box is then what is measured).
OVERFLOWS = """
() => {
  const out = [];
  for (const card of document.querySelectorAll('.card')) {
    const box = card.getBoundingClientRect();
    if (!box.width || getComputedStyle(card).display === 'none') continue;
    for (const node of card.querySelectorAll('*')) {
      const r = node.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      let clipped = false;
      for (let p = node.parentElement; p && p !== card; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o !== 'visible') { clipped = true; break; }
      }
      if (clipped) continue;
      if (r.right > box.right + 1 || r.left < box.left - 1) {
        const id = node.id ? '#' + node.id : '';
        const cls = node.className && typeof node.className === 'string'
          ? '.' + node.className.trim().split(/\\s+/).join('.') : '';
        const name = card.id || card.getAttribute('aria-labelledby');
        const where = `[${Math.round(r.left)}..${Math.round(r.right)}]`;
        const room = `[${Math.round(box.left)}..${Math.round(box.right)}]`;
        out.push(`${name}: ${node.tagName.toLowerCase()}${id}${cls} ${where} outside ${room}`);
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    const wide = document.documentElement.scrollWidth;
    out.push(`the page is ${wide}px wide in a ${window.innerWidth}px window`);
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"axe-core is missing ({AXE}); scripts/bootstrap.sh installs it with npm")
        pytest.skip("axe-core is not installed (scripts/bootstrap.sh installs it with npm)")
    return AXE.read_text(encoding="utf-8")


async def _draft_open(browser: Any, stack: Stack) -> tuple[Any, str]:
    """A signed-in page with an edited draft open (both reports shown), and the page's link."""
    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        draft = (await generated_draft(client, campaign))["id"]
        edited = await client.patch(f"/v1/drafts/{draft}", json={"user_edits": EDIT})
        assert edited.status_code == 200, edited.text
    page = await signed_in_page(
        browser, stack.gateway.url, token_for(stack, user), user, bypass_csp=True
    )
    link = f"{stack.gateway.url}/?campaign={campaign}&draft={draft}"
    await page.goto(link)
    await page.locator("#detail-view [data-testid=edit-report]").wait_for()
    return page, link


async def _axe(page: Any, source: str) -> list[str]:
    await page.evaluate(source)
    result = await page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {', '.join(v['targets'])}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


async def test_nothing_sticks_out_of_its_card_and_axe_finds_nothing_serious(
    stack: Stack, browser: Any, axe_source: str
) -> None:
    page, link = await _draft_open(browser, stack)
    problems = page_problems(page)
    failed: list[str] = []
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    for width in (1024, 1400, 1920):
        await page.set_viewport_size({"width": width, "height": 1000})
        await page.locator("#detail-view [data-testid=generated-report]").wait_for()
        overflows = await page.evaluate(OVERFLOWS)
        assert overflows == [], f"at {width}px:\n" + "\n".join(overflows)
    await page.set_viewport_size({"width": 1400, "height": 1000})
    await shot(page, "ui-checks-1400")
    serious = await _axe(page, axe_source)
    assert serious == [], "axe-core at 1400px:\n" + "\n".join(serious)

    await page.set_viewport_size({"width": 390, "height": 844})
    overflows = await page.evaluate(OVERFLOWS)
    assert overflows == [], "at 390px:\n" + "\n".join(overflows)
    serious = await _axe(page, axe_source)
    assert serious == [], "axe-core at 390px:\n" + "\n".join(serious)
    await shot(page, "ui-checks-390", full_page=False)

    # Limits are shown before they bite, and a long paste is never cut without a word.
    from playwright.async_api import expect

    await page.set_viewport_size({"width": 1400, "height": 1000})
    await page.fill("#context-input", "x" * 10_000)
    assert len(await page.input_value("#context-input")) == 10_000
    await expect(page.locator("#context-counter")).to_contain_text("8000 characters over")
    await expect(page.locator("#context-hint")).to_contain_text("over its 2000-character limit")
    await expect(page.locator("#generate-btn")).to_be_disabled()
    await page.fill("#feedback-input", "y" * 1_500)
    await expect(page.locator("#feedback-counter")).to_contain_text("500 characters over")
    await expect(page.locator("#regenerate-btn")).to_be_disabled()
    await expect(page.locator("#regenerate-blocked")).to_contain_text("1000-character limit")
    await page.fill("#title-input", "t" * 320)
    await expect(page.locator("#title-counter")).to_contain_text("20 characters over")
    await expect(page.locator("#edit-save")).to_be_disabled()

    # A subreddit without a profile is said in the page, not as a failed request in the console.
    await page.goto(link)
    await page.select_option("#subreddit-select", "freelance")
    await expect(page.locator("[data-testid=no-profile]")).to_contain_text("No profile")
    assert failed == []
    assert problems == []


async def test_the_style_guide_blacklist_editor_and_bulk_actions_fit_and_pass_axe(
    stack: Stack, browser: Any, axe_source: str
) -> None:
    """The screens issue 25 added last: the profile form with its style guide, a blacklist entry
    edited in place with its preview, the drafts ticked for a bulk action (its confirmation, then
    its outcome)."""
    from playwright.async_api import expect

    page, _ = await _draft_open(browser, stack)
    problems = page_problems(page)
    await page.click("#profile-edit")
    await expect(page.locator("#pf-style-voice")).to_be_visible()
    await page.fill("#pf-style-words_to_avoid", ", ".join(f"word {i}" for i in range(52)))
    await expect(page.locator("#profile-blocked")).to_be_visible()
    own = page.locator("#blacklist-list .entry [data-action=edit]").first
    await own.click()
    await page.fill("#ble-sample", "Try https://x.example/?utm_source=reddit and ?UTM_x")
    await expect(page.locator("#ble-preview [data-matches]")).to_be_visible()
    await page.check("#select-all")
    await expect(page.locator("#bulk-count")).to_have_text("1 selected")
    await page.click("#bulk-approve")
    await expect(page.locator("#confirm-dialog")).to_be_visible()  # the draft needs review
    serious = await _axe(page, axe_source)
    assert serious == [], "axe-core with the bulk confirmation open:\n" + "\n".join(serious)
    await confirm(page)
    await expect(page.locator("[data-testid=bulk-summary]")).to_have_text("1 approved.")
    for width in (1024, 1400, 1920):
        await page.set_viewport_size({"width": width, "height": 1000})
        overflows = await page.evaluate(OVERFLOWS)
        assert overflows == [], f"at {width}px:\n" + "\n".join(overflows)
    await page.set_viewport_size({"width": 1400, "height": 1000})
    serious = await _axe(page, axe_source)
    assert serious == [], "axe-core at 1400px:\n" + "\n".join(serious)
    await shot(page, "ui-checks-day-1400")
    await page.set_viewport_size({"width": 390, "height": 844})
    overflows = await page.evaluate(OVERFLOWS)
    assert overflows == [], "at 390px:\n" + "\n".join(overflows)
    serious = await _axe(page, axe_source)
    assert serious == [], "axe-core at 390px:\n" + "\n".join(serious)
    for card in ("drafts-card", "blacklist-card"):
        await page.locator(f"#{card}").screenshot(path=str(SHOTS / f"ui-checks-day-390-{card}.png"))
    assert problems == []


def test_axe_core_is_the_locked_version() -> None:
    lock = Path(ROOT / "tests" / "e2e" / "a11y" / "package-lock.json").read_text()
    assert '"axe-core": "4.10.3"' in lock
