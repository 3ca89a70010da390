"""Rule verdicts in the browser: a community whose profile has posting rules (a required flair,
no links, words banned in titles); an edit that breaks two of them shows each broken rule with its
reason and where it breaks in the edit report, marks it in the text, lists it in the approve
confirmation, and keeps it in the history. The profile form shows the rules it holds."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from bcrao_contracts import demo
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, token_for
from .ui_helpers import (
    SHOTS,
    TIMEOUT_MS,
    confirm,
    fill_generate_form,
    page_problems,
    shot,
    signed_in_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

RULES = {
    "links_allowed": False,
    "required_flairs": ["Question", "Discussion"],
    "banned_title_words": ["PSA"],
}
TITLE = "PSA: late invoices cost me my Fridays"
EDIT = (
    "I keep losing my Fridays to chasing invoices.\n\n"
    "I wrote down what finally worked: https://notes.example.org/fridays"
)


async def test_a_broken_rule_shows_in_the_edit_report_and_the_approve_confirmation(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        profile = {**demo.PROFILES["SaaS"].model_dump(mode="json"), "requirements": RULES}
        put = await client.put(f"/v1/campaigns/{campaign}/profiles/SaaS", json=profile)
        assert put.status_code == 200, put.text
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)

    # The profile form shows the rules the profile holds; a pasted JSON profile brings its own.
    await fill_generate_form(page, campaign)
    await page.click("#profile-edit")
    await expect(page.locator("#pf-flairs")).to_have_value("Question, Discussion")
    await expect(page.locator("#pf-links-allowed")).not_to_be_checked()
    pasted = {**profile, "requirements": {**RULES, "title_max_length": 120}}
    await page.fill("#profile-json", json.dumps(pasted))
    await page.click("#profile-json-load")
    await expect(page.locator("#pf-title-max")).to_have_value("120")
    await expect(page.locator("#pf-title-words")).to_have_value("PSA")
    await page.click("#profile-save")
    await expect(page.locator("#profile-form")).to_have_count(0)
    async with api(stack, user) as client:
        saved = (await client.get(f"/v1/campaigns/{campaign}/profiles/SaaS")).json()
    empty = {"title_min_length": None, "allowed_link_domains": [], "banned_link_domains": []}
    assert saved["requirements"] == {**RULES, **empty, "title_max_length": 120}
    await fill_generate_form(page, campaign)
    await page.click("#generate-btn")
    draft = page.locator("#result [data-testid=draft]")
    await draft.wait_for(timeout=TIMEOUT_MS)
    # The generated draft already has its verdicts: the flair the generator picked passes.
    generated = draft.locator("[data-testid=generated-report]")
    await expect(generated.locator(".rule[data-rule='community.flair']")).to_have_class(
        "rule rule-pass"
    )
    await page.click("#result .actions .btn-primary")  # "Edit, approve or regenerate"
    await expect(page.locator("#flair-input")).to_have_value("Discussion")

    await page.fill("#title-input", TITLE)
    await page.fill("#edit-input", EDIT)
    await page.fill("#flair-input", "")
    await page.click("#edit-save")
    await expect(page.locator("#detail-notice")).to_contain_text("checked again")

    report = page.locator("#detail-view [data-testid=edit-report]")
    await expect(report).to_contain_text("needs review")
    await expect(report).to_contain_text("3 of 4 rules broken")
    links = report.locator(".rule[data-rule='community.no_links']")
    await expect(links).to_have_class("rule rule-fail")
    await expect(links).to_contain_text("r/SaaS does not allow links")
    await expect(links.locator(".rule-where")).to_contain_text("https://notes.example.org/fridays")
    title_words = report.locator(".rule[data-rule='community.banned_title_words']")
    await expect(title_words).to_contain_text("in the title")
    flair = report.locator(".rule[data-rule='community.flair']")
    await expect(flair).to_contain_text("pick one of “Question”, “Discussion”")
    # Where it breaks is marked in the edited text too.
    edited = page.locator("#detail-view .draft-body").first
    await expect(edited.locator("mark.hit-rule")).to_have_text("https://notes.example.org/fridays")
    await expect(page.locator("#detail-view .edited-title mark.hit-rule")).to_have_text("PSA")
    await shot(page, "ui-rules-edit-report")
    await page.locator("#detail-view [data-testid=draft]").screenshot(
        path=str(SHOTS / "ui-rules-edit-report-close.png")
    )

    # Approving lists the broken rules, with their reasons, before asking.
    await page.click("#status-actions [data-status=approved]")
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("breaks 3 rules")
    await expect(dialog.locator(".rule-fail")).to_have_count(3)
    await expect(dialog).to_contain_text("Words banned in titles")
    await expect(dialog).to_contain_text("r/SaaS removes titles containing “PSA”")
    await shot(page, "ui-rules-approve-confirm", full_page=False)
    await confirm(page)
    await expect(page.locator("#detail-view .badge-status-approved")).to_be_visible()

    timeline = page.locator("#history [data-testid=history]")
    approval = timeline.locator(".timeline-item[data-action=status_changed]", has_text="approved")
    await expect(approval.locator(".timeline-rules")).to_contain_text(
        "Links not allowed here, Post flair, Words banned in titles"
    )
    assert problems == []
