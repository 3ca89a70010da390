"""A marketer's day in the browser with no surprises (issue 25), over the three real services: a
blacklist entry edited where it is listed (its preview, the case option, a stale version
caught)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, token_for
from .ui_helpers import (
    browser,
    chromium,
    confirm,
    page_problems,
    shot,
    signed_in_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
__all__ = ["browser", "chromium"]  # fixtures used by name


async def test_a_blacklist_entry_is_edited_where_it_is_listed(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        entries = (await client.get(f"/v1/campaigns/{campaign}/blacklist")).json()["entries"]
    utm = next(e for e in entries if e["pattern"] == r"\?utm_" and e["campaign_id"] == campaign)
    builtin = next(e for e in entries if e["campaign_id"] is None)
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)
    await expect(page.locator("#campaign-select")).to_be_enabled()
    await page.select_option("#campaign-select", campaign)
    item = page.locator(f'#blacklist-list [data-entry-id="{utm["id"]}"]')
    # Built-in entries are nobody's to change.
    await expect(
        page.locator(f'#blacklist-list [data-entry-id="{builtin["id"]}"] [data-action=edit]')
    ).to_have_count(0)

    await item.locator("[data-action=edit]").click()
    form = page.locator("#blacklist-edit-form")
    await expect(form).to_be_visible()
    await expect(page.locator("#ble-kind")).to_have_value("regex")
    await expect(page.locator("#ble-pattern")).to_have_value(r"\?utm_")
    await expect(page.locator("#ble-severity")).to_have_value("medium")
    await expect(page.locator("#ble-scope")).to_have_value("SaaS")
    # Case sensitivity stays a visible option, and the preview is the server's.
    await expect(page.locator("#ble-ignore-case")).to_be_visible()
    await expect(page.locator("#ble-ignore-case")).not_to_be_checked()
    await expect(page.locator("#ble-case-hint")).to_contain_text("must match exactly")
    await page.fill("#ble-pattern", r"[?&]utm_[a-z]+")
    await page.fill("#ble-sample", "See x.com/?utm_source=a&UTM_medium=b")
    preview = page.locator("#ble-preview [data-matches]")
    await expect(preview).to_have_attribute("data-matches", "1")
    await page.check("#ble-ignore-case")
    await expect(page.locator("#ble-case-hint")).to_contain_text("count the same")
    await expect(preview).to_have_attribute("data-matches", "2")
    await shot(page, "ui-blacklist-edit")

    # A regex the engine cannot run is refused beside the field, as on create.
    await page.fill("#ble-pattern", r"(utm)\1")
    await page.click("#ble-save")
    await expect(form.locator("[data-field=pattern] .field-error")).to_contain_text(
        "no backreferences"
    )
    await page.fill("#ble-pattern", r"[?&]utm_[a-z]+")
    await page.select_option("#ble-severity", "high")
    await page.fill("#ble-description", "Tracking parameters of any kind")
    await page.select_option("#ble-scope", "")
    await page.click("#ble-save")
    await expect(form).to_have_count(0)
    await expect(page.locator("#blacklist-notice")).to_contain_text("saved")
    edited = page.locator(f'#blacklist-list [data-entry-id="{utm["id"]}"]')
    await expect(edited.locator(".entry-pattern")).to_have_text(r"(?i)[?&]utm_[a-z]+")
    await expect(edited).to_contain_text("whole campaign")
    await expect(edited).to_contain_text("Tracking parameters of any kind")

    # Changed in another tab while open here: the editor says so, and saving shows what changed.
    await edited.locator("[data-action=edit]").click()
    await expect(page.locator("#ble-ignore-case")).to_be_checked()
    await expect(page.locator("#ble-pattern")).to_have_value(r"[?&]utm_[a-z]+")
    await page.select_option("#ble-severity", "low")
    async with api(stack, user) as client:
        now = (await client.get(f"/v1/campaigns/{campaign}/blacklist")).json()["entries"]
        mine = next(e for e in now if e["id"] == utm["id"])
        other = await client.patch(
            f"/v1/blacklist/{utm['id']}",
            json={"description": "Tracking links (another tab)"},
            headers={"If-Match": f'"{mine["version"]}"'},
        )
        assert other.status_code == 200, other.text
    await expect(page.locator("#blacklist-list .entry-editing .notice")).to_contain_text(
        "changed in another tab"
    )
    await expect(page.locator("#ble-severity")).to_have_value("low")  # the typing is kept
    await page.click("#ble-save")
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_contain_text("Description")
    await expect(dialog).to_contain_text("Tracking links (another tab)")
    await shot(page, "ui-blacklist-edit-conflict", full_page=False)
    await confirm(page)  # "Keep mine"
    await expect(page.locator("#blacklist-edit-form")).to_have_count(0)
    async with api(stack, user) as client:
        now = (await client.get(f"/v1/campaigns/{campaign}/blacklist")).json()["entries"]
    kept = next(e for e in now if e["id"] == utm["id"])
    # Only the severity was changed here: the other tab's description stays.
    assert (kept["severity"], kept["description"]) == ("low", "Tracking links (another tab)")
    assert problems == []
