"""Two tabs on one campaign, in Chromium, over the three real services: a draft the pipeline
stores and every edit, approval and discard made in one tab show in the other without a reload
(the change feed); a change made from an old version is never saved silently: the page says what
changed and the person chooses "Reload theirs" or "Keep mine"."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, token_for
from .ui_helpers import (
    fill_generate_form,
    generator_paused,
    page_problems,
    shot,
    signed_in_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

A_TEXT = "Tab A rewrote this: Fridays used to vanish into invoice reminders."
B_TEXT = "Tab B's version: I stopped chasing invoices by hand."
A_AGAIN = "Tab A again: a second rewrite while tab B was typing."


async def _tab(browser: Any, stack: Stack, user: str, campaign: str, size: dict[str, int]) -> Any:
    from playwright.async_api import expect

    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    await page.set_viewport_size(size)
    await expect(page.locator("#campaign-select")).to_have_value(campaign)
    await expect(page.locator("html")).to_have_attribute("data-change-feed", "open")
    return page


async def _open(page: Any, draft_id: str) -> None:
    from playwright.async_api import expect

    await page.click(f'#drafts-list [data-draft-id="{draft_id}"]')
    await expect(page.locator("#detail-view [data-testid=draft]")).to_have_attribute(
        "data-draft-id", draft_id
    )


async def test_two_tabs_stay_in_step_and_never_overwrite_each_other(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        a = await _tab(browser, stack, user, campaign, {"width": 1400, "height": 1000})
        b = await _tab(browser, stack, user, campaign, {"width": 390, "height": 844})
        problems = page_problems(a) + page_problems(b)
        await expect(a.locator("#drafts-summary")).to_contain_text("No drafts yet")

        # A draft the pipeline stores reaches both lists by itself (no reload, no click).
        accepted = await client.post(
            f"/v1/campaigns/{campaign}/drafts/generate",
            json={"subreddit": "SaaS", "archetype": "Feedback", "context": "late invoices"},
        )
        assert accepted.status_code == 202, accepted.text
        item = "#drafts-list [data-draft-id]"
        await expect(a.locator(item)).to_have_count(1)
        await expect(b.locator(item)).to_have_count(1)
        draft_id = await a.locator(item).first.get_attribute("data-draft-id")
        assert draft_id
        await _open(a, draft_id)
        await _open(b, draft_id)

        # Tab A saves an edit: tab B, with nothing unsaved, shows it.
        await a.fill("#edit-input", A_TEXT)
        await a.click("#edit-save")
        await expect(a.locator("#detail-notice")).to_contain_text("Saved")
        await expect(b.locator("#edit-input")).to_have_value(A_TEXT)
        await expect(b.locator("#detail-notice")).to_contain_text("edited in another tab")

        # Tab B types; tab A approves meanwhile. B keeps its unsaved words and is told.
        await b.fill("#edit-input", B_TEXT)
        await a.click("#status-actions [data-status=approved]")
        await a.wait_for_selector("#confirm-dialog[open], #detail-view .badge-status-approved")
        if await a.locator("#confirm-dialog[open]").count():
            await a.click("#confirm-ok")
        await expect(a.locator("#detail-view .badge-status-approved")).to_be_visible()
        await expect(b.locator("#detail-notice")).to_contain_text("unsaved edits are kept")
        await expect(b.locator("#edit-input")).to_have_value(B_TEXT)
        await expect(b.locator("#drafts-list")).to_contain_text("approved")

        # B saves from the old version: not silently. The dialog says what changed; B reloads.
        await b.click("#edit-save")
        dialog = b.locator("#confirm-dialog")
        await expect(dialog).to_contain_text("changed in another tab or window")
        await expect(dialog.locator("[data-testid=conflict-changes]")).to_contain_text(
            "Status: edited → approved"
        )
        await shot(b, "ui-sync-conflict-phone", full_page=False)
        await b.click("#confirm-cancel")  # "Reload theirs"
        await expect(b.locator("#detail-view .badge-status-approved")).to_be_visible()
        await expect(b.locator("#edit-input")).to_have_value(A_TEXT)
        approved = (await client.get(f"/v1/drafts/{draft_id}")).json()
        assert approved["status"] == "approved"
        assert approved["user_edits"] == A_TEXT

        # B types again, A rewrites again; B keeps its own words on top of A's.
        await b.fill("#edit-input", B_TEXT)
        await a.fill("#edit-input", A_AGAIN)
        await a.click("#edit-save")
        await expect(a.locator("#detail-notice")).to_contain_text("Saved")
        await expect(b.locator("#detail-notice")).to_contain_text("unsaved edits are kept")
        await b.click("#edit-save")
        await expect(dialog.locator("[data-testid=conflict-changes]")).to_contain_text("Text:")
        await expect(dialog.locator("[data-testid=conflict-changes]")).to_contain_text("Tab A")
        await b.click("#confirm-ok")  # "Keep mine"
        await expect(b.locator("#detail-notice")).to_contain_text("Saved")
        await expect(a.locator("#edit-input")).to_have_value(B_TEXT)

        history = (await client.get(f"/v1/drafts/{draft_id}/history")).json()
        edits = [e for e in history["entries"] if e["action"] == "edited"]
        assert len(edits) == 3, history  # A, A again, B kept: nothing was overwritten silently
        await shot(a, "ui-sync-tab-a")
        assert problems == []


async def test_a_generation_survives_a_reload(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
    page = await _tab(browser, stack, user, campaign, {"width": 1400, "height": 1000})
    problems = page_problems(page)
    with generator_paused(stack):
        await fill_generate_form(page, campaign)
        await page.click("#generate-btn")
        await expect(page.locator("#progress-card")).to_be_visible()
        await expect(page.locator("#connection")).to_have_text("Live")
        await page.reload()
        problems += page_problems(page)
        # Signed in again from the saved token, same campaign: the card is back, following it.
        await expect(page.locator("#campaign-select")).to_have_value(campaign)
        await expect(page.locator("#progress-card")).to_be_visible()
        await expect(page.locator("#progress-heading")).to_contain_text("r/SaaS")
        await expect(page.locator("#stream-notice")).to_contain_text("already under way")
        await expect(page.locator("#connection")).to_have_text("Live")
        await expect(page.locator("#drafts-summary")).to_contain_text("No drafts yet")
        await shot(page, "ui-resumed-after-reload", full_page=False)
    # The generator goes on: the re-attached stream ends with the stored draft, and the list
    # gains it without another reload.
    draft = page.locator("#result [data-testid=draft]")
    await expect(draft).to_be_visible()
    draft_id = await draft.get_attribute("data-draft-id")
    await expect(page.locator(f'#drafts-list [data-draft-id="{draft_id}"]')).to_have_count(1)
    assert problems == []
