"""Reviewing a draft in the browser: edits (title and text) are checked like generated text and
every hit is marked in it; approving a draft that needs review takes an explicit confirmation;
the history shows who did what; a regeneration shows the feedback it used and links both ways."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, token_for
from .ui_helpers import (
    TIMEOUT_MS,
    confirm,
    fill_generate_form,
    page_problems,
    shot,
    signed_in_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TITLE = "Fridays keep disappearing into invoices"
EDIT = (
    "I keep losing my Fridays to chasing invoices.\n\n"
    "Check out my app at https://invoicely.example.com/?utm_source=reddit, it fixed this for me."
)
FEEDBACK = "Less about the app, more about the Fridays"


async def _generated(page: Any, campaign: str) -> str:
    from playwright.async_api import expect

    await fill_generate_form(page, campaign)
    await page.click("#generate-btn")
    draft = page.locator("#result [data-testid=draft]")
    await draft.wait_for(timeout=TIMEOUT_MS)
    draft_id = await draft.get_attribute("data-draft-id")
    assert draft_id
    await page.click("#result .actions .btn-primary")  # "Edit, approve or regenerate"
    await expect(page.locator("#detail-view [data-testid=draft]")).to_have_attribute(
        "data-draft-id", draft_id
    )
    return draft_id


async def test_edits_are_checked_approved_with_confirmation_and_traced(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)
    original = await _generated(page, campaign)

    # Title and text edited together; counts follow Reddit's limits.
    await page.fill("#title-input", TITLE)
    await expect(page.locator("#title-counter")).to_have_text(f"{len(TITLE)} / 300")
    await page.fill("#edit-input", EDIT)
    await expect(page.locator("#body-counter")).to_have_text(f"{len(EDIT)} / 40000")
    await page.click("#edit-save")
    await expect(page.locator("#detail-notice")).to_contain_text("checked again")
    await expect(page.locator("#title-input")).to_have_value(TITLE)
    await expect(page.locator("#drafts-list")).to_contain_text(TITLE)

    # The edit's own report, with the generated one kept beside it; every hit marked in the text.
    edit_report = page.locator("#detail-view [data-testid=edit-report]")
    await expect(edit_report).to_contain_text("needs review")
    await expect(page.locator("#detail-view [data-testid=generated-report]")).to_be_visible()
    hits = await edit_report.locator(".report-group").first.locator("li q").all_inner_texts()
    assert any(h.lower() == "check out my" for h in hits), hits
    edited_text = page.locator("#detail-view .draft-body").first
    marks = " | ".join(await edited_text.locator("mark.hit").all_inner_texts()).lower()
    for hit in hits:
        assert hit.lower() in marks, f"{hit!r} is not marked in the edited text ({marks!r})"
    await shot(page, "ui-edit-marked")

    # Approving needs an explicit confirmation that lists the high-severity hits.
    await page.click("#status-actions [data-status=approved]")
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(re.compile("check out my", re.IGNORECASE))
    await shot(page, "ui-approve-confirm", full_page=False)
    await page.click("#confirm-cancel")
    await expect(page.locator("#detail-view .badge-status-edited")).to_be_visible()
    await page.click("#status-actions [data-status=approved]")
    await confirm(page)
    await expect(page.locator("#detail-view .badge-status-approved")).to_be_visible()
    await expect(page.locator("#detail-notice")).to_contain_text("confirmation recorded")

    # The history: created, the edit, the approval, each with who did it.
    timeline = page.locator("#history [data-testid=history]")
    await expect(timeline.locator(".timeline-item[data-action=edited]")).to_have_count(1)
    approval = timeline.locator(".timeline-item[data-action=status_changed]", has_text="→ approved")
    await expect(approval).to_contain_text("approved")
    await expect(approval).to_contain_text(user)
    await expect(approval).to_contain_text("confirmed")
    await shot(page, "ui-history")

    # Changing an approved draft says it withdraws the approval, before and after.
    await expect(page.locator("#status-hint")).to_contain_text("withdraws the approval")
    await page.fill("#flair-input", "Question")
    await page.click("#edit-save")
    await expect(page.locator("#detail-notice")).to_contain_text("withdrew the approval")
    await expect(page.locator("#detail-view .badge-status-edited")).to_be_visible()
    await page.click("#status-actions [data-status=approved]")
    await confirm(page)
    await expect(page.locator("#detail-view .badge-status-approved")).to_be_visible()

    # Regenerate with feedback; the new draft says what it was made with and links back.
    await page.fill("#feedback-input", FEEDBACK)
    await page.click("#regenerate-btn")
    child = page.locator("#result [data-testid=draft]")
    await child.wait_for(timeout=TIMEOUT_MS)
    child_id = await child.get_attribute("data-draft-id")
    await page.click("#result .actions .btn-primary")
    await expect(page.locator("#detail-lineage .feedback-used")).to_contain_text(FEEDBACK)
    await shot(page, "ui-regenerated-lineage")
    await page.click("#parent-link")
    await expect(page.locator("#detail-view [data-testid=draft]")).to_have_attribute(
        "data-draft-id", original
    )
    regenerated = page.locator("#history .timeline-item[data-action=regenerated]")
    await expect(regenerated).to_have_count(1)
    await regenerated.locator("[data-child]").click()
    await expect(page.locator("#detail-view [data-testid=draft]")).to_have_attribute(
        "data-draft-id", str(child_id)
    )
    assert problems == []


async def test_discard_waits_for_undo_and_copy_buttons_copy(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        page = await signed_in_page(
            browser,
            stack.gateway.url,
            token_for(stack, user),
            user,
            permissions=["clipboard-read", "clipboard-write"],
        )
        problems = page_problems(page)
        draft_id = await _generated(page, campaign)

        title = await page.locator("#title-input").input_value()
        await page.click("[data-copy=title]")
        assert await page.evaluate("() => navigator.clipboard.readText()") == title
        body = await page.locator("#edit-input").input_value()
        await page.click("[data-copy=body]")
        assert await page.evaluate("() => navigator.clipboard.readText()") == body

        # Discard asks first, then waits for an undo before it is sent.
        await page.click("#status-actions [data-status=discarded]")
        await confirm(page)
        await expect(page.locator("#undo-slot")).to_contain_text("will be discarded in")
        await shot(page, "ui-discard-undo", full_page=False)
        await page.click("#undo-discard")
        await expect(page.locator("#undo-slot")).to_contain_text("was not discarded")
        kept = (await client.get(f"/v1/drafts/{draft_id}")).json()
        assert kept["status"] == "generated"

        # Without the undo it goes through once the countdown ends.
        await page.click("#status-actions [data-status=discarded]")
        await confirm(page)
        await expect(page.locator("#detail-view .badge-status-discarded")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        gone = (await client.get(f"/v1/drafts/{draft_id}")).json()
        assert gone["status"] == "discarded"
        assert problems == []
