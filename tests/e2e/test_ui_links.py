"""The page's place is in the address, in Chromium over the three real services: a link with a
campaign, an open draft and a filter opens that view; back and forward walk through what the
person did; the same link for another account says clearly that it was not found; on a phone a
bar moves between the campaign, generating, the drafts and the open draft."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, generated_draft, token_for
from .ui_helpers import page_problems, shot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def _stored_draft(client: Any, campaign: str) -> str:
    """A draft generated through the public API; waits for the stream's `complete`."""
    return str((await generated_draft(client, campaign))["id"])


async def test_a_link_opens_the_same_view_and_back_and_forward_work(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        first = await create_demo_campaign(client)
        second = await create_demo_campaign(client)
        draft = await _stored_draft(client, second)
    base = stack.gateway.url
    link = f"{base}/?campaign={second}&draft={draft}&status=generated"
    page = await signed_in_page(browser, base, token_for(stack, user), user)
    problems = page_problems(page)
    await page.goto(link)
    await expect(page.locator("#campaign-select")).to_have_value(second)
    await expect(page.locator("#detail-view [data-testid=draft]")).to_have_attribute(
        "data-draft-id", draft
    )
    await expect(page.locator('#status-filters [data-status="generated"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.url == link

    # Closing the draft, clearing the filter and choosing the other campaign are each a step.
    await page.click("#detail-close")
    await expect(page).to_have_url(f"{base}/?campaign={second}&status=generated")
    await page.click('#status-filters [data-status="all"]')
    await expect(page).to_have_url(f"{base}/?campaign={second}")
    await page.select_option("#campaign-select", first)
    await expect(page).to_have_url(f"{base}/?campaign={first}")
    await expect(page.locator("#drafts-summary")).to_contain_text("No drafts yet")

    await page.go_back()
    await expect(page.locator("#campaign-select")).to_have_value(second)
    await expect(page.locator(f'#drafts-list [data-draft-id="{draft}"]')).to_have_count(1)
    await page.go_back()
    await expect(page.locator('#status-filters [data-status="generated"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    await page.go_back()
    await expect(page.locator("#detail-card")).to_be_visible()
    await expect(page.locator("#detail-view [data-testid=draft]")).to_have_attribute(
        "data-draft-id", draft
    )
    await page.go_forward()
    await expect(page.locator("#detail-card")).to_be_hidden()
    await page.reload()  # filters survive a reload: they are in the address
    await expect(page.locator('#status-filters [data-status="generated"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert problems == []

    # The same link, signed in as someone else: a clear not-found, never their draft.
    other = f"ui-{secrets.token_hex(4)}"
    async with api(stack, other) as client:
        own = await create_demo_campaign(client)
    stranger = await signed_in_page(browser, base, token_for(stack, other), other)
    await stranger.goto(link)
    await expect(stranger.locator("#campaign-error")).to_contain_text(
        "The campaign in this link was not found"
    )
    await expect(stranger.locator("#drafts-error")).to_contain_text(
        "The draft in this link was not found"
    )
    await expect(stranger.locator("#campaign-select")).to_have_value(own)
    await expect(stranger.locator("#detail-card")).to_be_hidden()
    await expect(stranger).to_have_url(re.compile(rf"campaign={own}"))
    await shot(stranger, "ui-link-not-found", full_page=False)


async def test_a_phone_moves_between_sections(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        draft = await _stored_draft(client, campaign)
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    await page.set_viewport_size({"width": 390, "height": 844})
    nav = page.locator("#section-nav")
    await expect(nav).to_be_visible()
    await expect(nav.locator("#nav-draft")).to_be_hidden()
    # The tap comes once the page has loaded, as a reader's would: a tap while the top bar is
    # still growing (the usage line arriving) can land beside the button.
    await expect(page.locator(f'#drafts-list [data-draft-id="{draft}"]')).to_be_visible()
    await expect(page.locator("#usage")).to_be_visible()
    await nav.get_by_role("button", name="Drafts").click()
    await expect(page.locator("#drafts-heading")).to_be_in_viewport()
    # Content that arrives above the section after the tap (a slow profile, a long campaign
    # list) does not push it out of sight (the browser's scroll anchoring, which the page keeps).
    await page.evaluate(
        """() => document.getElementById("campaign-card").append(
            Object.assign(document.createElement("div"), {id: "late", style: "height: 2400px"}))"""
    )
    await expect(page.locator("#drafts-heading")).to_be_in_viewport()
    await page.evaluate('() => document.getElementById("late").remove()')
    await expect(nav).to_be_in_viewport()  # the bar stays at hand while scrolling
    await page.click(f'#drafts-list [data-draft-id="{draft}"]')
    await expect(page.locator("#detail-heading")).to_be_in_viewport()  # opening it goes there
    await expect(nav.locator("#nav-draft")).to_be_visible()
    await nav.get_by_role("button", name="Generate").click()
    await expect(page.locator("#generate-heading")).to_be_in_viewport()
    await nav.locator("#nav-draft").click()
    await expect(page.locator("#detail-heading")).to_be_in_viewport()
    await shot(page, "ui-phone-nav", full_page=False)
    await nav.get_by_role("button", name="Campaign").click()
    await expect(page.locator("#campaign-heading")).to_be_in_viewport()


async def test_a_full_campaigns_list_searches_sorts_filters_and_exports(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        first = await _stored_draft(client, campaign)
        second = await _stored_draft(client, campaign)
        title = "Fridays, invoices and 100% of my patience"
        edited = await client.patch(f"/v1/drafts/{first}", json={"title": title})
        assert edited.status_code == 200, edited.text
        approved = await client.patch(
            f"/v1/drafts/{first}", json={"status": "approved", "confirm_needs_review": True}
        )
        assert approved.status_code == 200, approved.text
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)
    items = page.locator("#drafts-list [data-draft-id]")
    await expect(items).to_have_count(2)

    await page.fill("#drafts-search", "100% of my")
    await expect(items).to_have_count(1)
    await expect(items.first).to_have_attribute("data-draft-id", first)
    await expect(page).to_have_url(re.compile(r"q=100%25\+of\+my|q=100%25%20of%20my"))
    await page.fill("#drafts-search", "")
    await expect(items).to_have_count(2)
    await page.select_option("#drafts-sort", "oldest")
    await expect(items.first).to_have_attribute("data-draft-id", first)
    await page.select_option("#drafts-sort", "newest")
    await expect(items.first).to_have_attribute("data-draft-id", second)

    async with page.expect_download() as info:
        await page.click("#export-csv")
    download = await info.value
    csv = Path(await download.path()).read_text(encoding="utf-8")
    assert csv.startswith('"title","text","subreddit"')
    assert title in csv
    assert second not in csv  # only approved drafts
    async with page.expect_download() as info:
        await page.click("#export-md")
    markdown = Path(await (await info.value).path()).read_text(encoding="utf-8")
    assert f"## {title}" in markdown
    await expect(page.locator("#drafts-summary")).to_contain_text("Exported 1 approved draft")
    await shot(page, "ui-list-tools", full_page=False)
    assert problems == []
