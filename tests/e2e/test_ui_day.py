"""A marketer's day in the browser with no surprises (issue 25), over the three real services: the
community's style guide in form fields (limits shown before they bite, a guessed key answered with
the real ones, the saved guide back in the fields after a reload), a blacklist entry edited where
it is listed (its preview, the case option, a stale version caught), and several drafts approved
or discarded at once with every draft's outcome said."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, generated_draft, token_for
from .ui_helpers import (
    TIMEOUT_MS,
    confirm,
    fill_generate_form,
    page_problems,
    shot,
    signed_in_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CLEAN = "I keep losing my Fridays to chasing invoices.\n\nHow do you get clients to pay on time?"
NEEDS_REVIEW = (
    "I keep losing my Fridays to chasing invoices.\n\n"
    "Check out my app at https://invoicely.example.com/?utm_source=reddit, it fixed this for me."
)


async def _stored_draft(client: Any, campaign: str, text: str) -> dict[str, Any]:
    """A draft generated through the public API (its stream followed to `complete`), then edited
    to `text` so whether it needs review is known."""
    draft = await generated_draft(client, campaign)
    edited = await client.patch(f"/v1/drafts/{draft['id']}", json={"user_edits": text})
    assert edited.status_code == 200, edited.text
    draft: dict[str, Any] = edited.json()
    return draft


async def test_the_style_guide_is_in_form_fields_and_back_after_a_reload(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)
    await fill_generate_form(page, campaign)

    # The saved guide can be seen in the profile card, and is in the editor's fields.
    card = page.locator("#profile [data-testid=style-guide]")
    await expect(card).to_contain_text("Founders talking shop")
    await expect(card.locator("dd[data-key=words_to_avoid]")).to_have_text(
        "game-changer, revolutionize, seamless"
    )
    await page.click("#profile-edit")
    await expect(page.locator("#pf-style-voice")).to_have_value(
        "Founders talking shop: numbers, honest mistakes, no hype."
    )
    await expect(page.locator("#pf-style-words_to_use")).to_have_value(
        "MRR\nchurn\nrunway\nonboarding"
    )
    guide = page.locator("#profile-form fieldset.style-guide")
    for label in ("Voice", "Words to use", "Words to avoid", "Tone", "Taboo topics"):
        await expect(guide.get_by_label(label, exact=True)).to_be_visible()
    # What each key means and its limits are said before they bite.
    await expect(page.locator("#pf-style-loved_tools-hint")).to_contain_text(
        "Up to 50 items, each up to 300 characters."
    )
    await expect(page.locator("#pf-style-words_to_use-counter")).to_have_text("4 of 50 items")
    await page.fill("#pf-style-taboo_topics", ", ".join(f"topic {i}" for i in range(51)))
    counter = page.locator("#pf-style-taboo_topics-counter")
    await expect(counter).to_contain_text("51 of 50 items")
    await expect(counter).to_have_class("counter near over")
    await expect(page.locator("#profile-save")).to_be_disabled()
    await expect(page.locator("#profile-blocked")).to_contain_text(
        "Taboo topics has 51 items, 1 over the limit of 50"
    )
    await page.fill("#pf-style-taboo_topics", "pricing pages\n" + "x" * 310)
    await expect(page.locator("#profile-blocked")).to_contain_text("item 2 (“xxxx")
    await expect(page.locator("#profile-blocked")).to_contain_text("10 characters over")

    # Pasted JSON with a guessed key: said at once, with the real keys; the rest fills the form.
    pasted = {
        "isc_score": 6.4,
        "avg_sentence_length": 17.3,
        "formality_level": 7.9,
        "style_guide": {"avoid": ["synergy"], "tone": "dry, self-deprecating"},
    }
    await page.fill("#profile-json", json.dumps(pasted))
    await page.click("#profile-json-load")
    json_error = page.locator("#profile-editor-slot .error-box").first
    await expect(json_error).to_contain_text("“avoid” (did you mean “words_to_avoid”?)")
    await expect(json_error).to_contain_text("Its keys are voice, words_to_use, words_to_avoid")
    await expect(page.locator("#pf-style-tone")).to_have_value("dry, self-deprecating")
    await expect(page.locator("#pf-style-voice")).to_have_value("")

    # A guessed key at the top of the profile reaches the server, which names the real ones.
    await page.fill("#profile-json", json.dumps({**pasted, "isc": 5, "style_guide": {}}))
    await page.click("#profile-json-load")
    await page.click("#profile-save")
    refused = page.locator("#profile-form [role=alert] .error-box")
    await expect(refused).to_contain_text(
        "isc: is not a known field; the fields here are isc_score"
    )
    await shot(page, "ui-style-guide-refused", full_page=False)

    # Every key from the form, lists one per line or comma-separated; saved, then seen.
    await page.fill("#profile-json", json.dumps(pasted | {"style_guide": {}}))
    await page.click("#profile-json-load")
    values = {
        "voice": "Founders talking shop",
        "tone": "dry, self-deprecating",
        "words_to_use": "MRR, churn",
        "words_to_avoid": "synergy\ngame-changer",
        "taboo_topics": "crypto",
        "loved_tools": "Stripe\nLinear, Notion",
        "insider_references": "ramen profitable",
    }
    for key, value in values.items():
        await page.fill(f"#pf-style-{key}", value)
    await expect(page.locator("#profile-save")).to_be_enabled()
    await shot(page, "ui-style-guide-form")
    await page.click("#profile-save")
    await expect(page.locator("#profile-form")).to_have_count(0)
    await expect(card.locator("dd[data-key=loved_tools]")).to_have_text("Stripe, Linear, Notion")
    await expect(card.locator("dt").first).to_have_text("Voice")
    expected = {
        "voice": "Founders talking shop",
        "tone": "dry, self-deprecating",
        "words_to_use": ["MRR", "churn"],
        "words_to_avoid": ["synergy", "game-changer"],
        "taboo_topics": ["crypto"],
        "loved_tools": ["Stripe", "Linear", "Notion"],
        "insider_references": ["ramen profitable"],
    }
    async with api(stack, user) as client:
        saved = (await client.get(f"/v1/campaigns/{campaign}/profiles/SaaS")).json()
    assert saved["style_guide"] == expected

    # After a reload the fields hold the saved guide.
    await page.reload()
    await fill_generate_form(page, campaign)
    await page.click("#profile-edit")
    await expect(page.locator("#pf-style-loved_tools")).to_have_value("Stripe\nLinear\nNotion")
    await expect(page.locator("#pf-style-tone")).to_have_value("dry, self-deprecating")
    await expect(page.locator("#pf-style-insider_references")).to_have_value("ramen profitable")
    assert problems == []


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


async def test_several_drafts_are_approved_or_discarded_at_once_and_each_outcome_said(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        review = await _stored_draft(client, campaign, NEEDS_REVIEW)
        clean = [await _stored_draft(client, campaign, CLEAN) for _ in range(3)]
    assert review["needs_review"] is True
    assert [d["needs_review"] for d in clean] == [False, False, False]
    changing = clean[1]
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)
    await expect(page.locator("#campaign-select")).to_be_enabled()
    await page.select_option("#campaign-select", campaign)
    items = page.locator("#drafts-list .draft-item")
    await expect(items).to_have_count(4)
    await expect(page.locator("#bulk-approve")).to_be_disabled()

    # Export works on the selection: two drafts ticked, those two exported.
    for draft in (review, clean[0]):
        await page.locator(f'#drafts-list [data-chosen-id="{draft["id"]}"]').check()
    await expect(page.locator("#bulk-count")).to_have_text("2 selected")
    await expect(page.locator("#select-all")).to_have_js_property("indeterminate", True)
    await expect(page.locator("#export-label")).to_contain_text("the 2 selected drafts")
    async with page.expect_download() as info:
        await page.click("#export-csv")
    csv = Path(await (await info.value).path()).read_text(encoding="utf-8")
    assert {d["id"] for d in [review, *clean] if d["id"] in csv} == {review["id"], clean[0]["id"]}

    # Approve all shown: the one that needs review is confirmed first, with its reasons.
    await page.check("#select-all")
    await expect(page.locator("#bulk-count")).to_have_text("4 selected")
    await page.click("#bulk-approve")
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_contain_text("Approve 4 drafts? One needs review")
    await expect(dialog.locator("[data-testid=confirm-drafts] .confirm-draft")).to_have_count(1)
    await expect(dialog).to_contain_text("high-severity blacklist hits")
    await shot(page, "ui-bulk-approve-confirm", full_page=False)
    # Meanwhile another tab edits one of them: its own If-Match makes that one a 412.
    async with api(stack, user) as client:
        other = await client.patch(
            f"/v1/drafts/{changing['id']}",
            json={"title": "Changed in another tab"},
            headers={"If-Match": f'"{changing["version"]}"'},
        )
        assert other.status_code == 200, other.text
    await confirm(page)
    outcome = page.locator("[data-testid=bulk-outcome]")
    await expect(outcome.locator("[data-testid=bulk-summary]")).to_have_text(
        "3 approved, 1 changed elsewhere — reload it."
    )
    await expect(outcome.locator("li[data-outcome=done]")).to_have_count(3)
    changed_line = outcome.locator(f'li[data-draft-id="{changing["id"]}"]')
    await expect(changed_line).to_have_attribute("data-outcome", "changed")
    await shot(page, "ui-bulk-approve-outcome")
    await changed_line.get_by_role("button", name="Reload it").click()
    await expect(page.locator("#title-input")).to_have_value("Changed in another tab")
    async with api(stack, user) as client:
        listed = (await client.get(f"/v1/campaigns/{campaign}/drafts")).json()["drafts"]
        history = (await client.get(f"/v1/drafts/{review['id']}/history")).json()
    now = {d["id"]: d for d in listed}
    assert [now[d["id"]]["status"] for d in (review, clean[0], clean[2])] == ["approved"] * 3
    assert now[changing["id"]]["status"] == "edited"
    approval = [e for e in history["entries"] if e.get("to_status") == "approved"]
    assert [e["confirmed_needs_review"] for e in approval] == [True]
    # Only the draft that did not go through stays selected, to try again.
    await expect(page.locator("#bulk-count")).to_have_text("1 selected")

    # Discard all shown: one was posted meanwhile (it cannot be discarded: said, not sent); the
    # discard waits for an undo like one draft's, then every outcome is said.
    async with api(stack, user) as client:
        posted = await client.patch(f"/v1/drafts/{clean[0]['id']}", json={"status": "posted"})
        assert posted.status_code == 200, posted.text
    await expect(page.locator(f'#drafts-list [data-draft-id="{clean[0]["id"]}"]')).to_contain_text(
        "posted"
    )
    await page.check("#select-all")
    await page.click("#bulk-discard")
    await expect(dialog).to_contain_text("Discard 3 drafts?")
    await confirm(page)
    await expect(page.locator("#undo-slot")).to_contain_text("3 drafts will be discarded in")
    await page.click("#undo-discard")
    await expect(page.locator("#undo-slot")).to_contain_text("3 drafts were not discarded")
    async with api(stack, user) as client:
        listed = (await client.get(f"/v1/campaigns/{campaign}/drafts")).json()["drafts"]
    assert "discarded" not in {d["status"] for d in listed}
    await page.click("#bulk-discard")
    await confirm(page)
    await expect(outcome.locator("[data-testid=bulk-summary]")).to_have_text(
        "3 discarded, 1 skipped.", timeout=TIMEOUT_MS
    )
    await expect(outcome.locator(f'li[data-draft-id="{clean[0]["id"]}"]')).to_contain_text(
        "a posted draft cannot be discarded"
    )
    async with api(stack, user) as client:
        listed = (await client.get(f"/v1/campaigns/{campaign}/drafts")).json()["drafts"]
    assert sorted(d["status"] for d in listed) == ["discarded"] * 3 + ["posted"]
    assert problems == []
