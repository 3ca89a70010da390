"""Campaign management in the browser, as a newcomer does it: create a campaign (the API's
messages appear beside the fields it names), load profiles (pasted JSON, or proposed from real
posts and reviewed before saving), and add a blacklist regex after trying it on sample text."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, token_for
from .ui_helpers import page_problems, shot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PRODUCT = "Acme Notes keeps every client's notes, files and deadlines in one place for freelancers."


def _posts() -> list[dict[str, Any]]:
    """A small subreddit sample: the best-scored posts are personal and link-free, the worst are
    pitches with links and jargon (what a sensitive community rewards and punishes)."""
    good = [
        {
            "title": f"I lost a client in month {i} and here is what I learned",
            "body": (
                "I was scared to admit it, but I missed three deadlines in a row. "
                "I felt awful. What would you have done? I honestly still wonder about it."
            ),
            "score": 900 - 40 * i,
            "num_comments": 120 - 5 * i,
        }
        for i in range(6)
    ]
    bad = [
        {
            "title": f"Our synergy platform {i} leverages best-in-class workflows",
            "body": (
                "Check out https://example.com/?utm_source=reddit for a seamless, "
                "game-changing solution."
            ),
            "score": 3 - i,
            "num_comments": i,
        }
        for i in range(6)
    ]
    return good + bad


async def _new_campaign(page: Any, name: str, subreddits: str) -> None:
    from playwright.async_api import expect

    await expect(page.locator("#campaign-form")).to_be_visible()  # no campaigns yet: it opens
    await page.fill("#cf-name", name)
    await page.fill("#cf-product-context", PRODUCT)
    await page.fill("#cf-keywords", "notes, freelancing, clients, deadlines, files")
    await page.fill("#cf-subreddits", subreddits)
    await page.click("#campaign-save")
    await expect(page.locator("#campaign-form")).to_be_hidden()
    await expect(page.locator("#campaign-select option:checked")).to_have_text(name)


async def test_a_campaign_a_pasted_profile_and_a_blacklist_regex(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)

    # The API's own messages, beside each field they are about.
    await expect(page.locator("#campaign-form")).to_be_visible()
    await page.fill("#cf-name", "Acme Notes")
    await page.fill("#cf-product-context", "short")
    await page.fill("#cf-keywords", "notes, app")
    await page.fill("#cf-subreddits", "freelance, not a name!")
    await page.click("#campaign-save")
    form = page.locator("#campaign-form")
    await expect(form.locator("[data-field=product_context] .field-error")).to_contain_text("10")
    await expect(form.locator("[data-field=keywords] .field-error")).to_contain_text("5")
    await expect(form.locator("[data-field=target_subreddits] .field-error")).to_be_visible()
    await expect(form.locator("[data-field=name] .field-error")).to_be_hidden()
    await shot(page, "ui-campaign-form-errors")
    await page.fill("#cf-product-context", PRODUCT)
    await page.fill("#cf-keywords", "notes, freelancing, clients, deadlines, files")
    await page.fill("#cf-subreddits", "freelance, r/productivity")
    await page.click("#campaign-save")
    await expect(form).to_be_hidden()
    await expect(page.locator("#subreddit-chips")).to_contain_text("r/productivity")
    await expect(page.locator("#campaign-notice")).to_contain_text("Campaign “Acme Notes” created")

    # Edit, pause (Generate says why it is off), resume.
    await page.click("#campaign-edit")
    await expect(page.locator("#cf-humanizer-level")).to_have_value("light")  # the default
    await expect(page.locator("#cf-humanizer-hint")).to_contain_text("lower case")
    await page.fill("#cf-description", "Do freelancers " + "x" * 300 + " want this?")
    await page.select_option("#cf-humanizer-level", "casual")
    await page.click("#campaign-save")
    await expect(form).to_be_hidden()
    await expect(page.locator("#campaign-notice")).to_contain_text("Changes to “Acme Notes” saved")
    await page.click("#campaign-edit")  # the saved level comes back into the form
    await expect(page.locator("#cf-humanizer-level")).to_have_value("casual")
    await page.click("#campaign-cancel")
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, f"a long word made the page {width}px wide"
    await page.click("[data-campaign-status=paused]")
    await expect(page.locator("#campaign-status")).to_contain_text("paused")
    await expect(page.locator("#generate-blocked")).to_contain_text("paused")
    await page.click("[data-campaign-status=active]")
    await expect(page.locator("#generate-blocked")).to_be_hidden()

    # A profile pasted as JSON fills the form; it is saved with the PUT.
    await page.click("#profile-edit")
    pasted = {"isc_score": 7.54, "avg_sentence_length": 12.5, "formality_level": 7.0}
    await page.fill("#profile-json", json.dumps({**pasted, "dominant_tone": "negative"}))
    await page.click("#profile-json-load")
    await expect(page.locator("#pf-isc")).to_have_value("7.54")
    await expect(page.locator("#pf-tone")).to_have_value("negative")
    await page.fill("#pf-avg", "0")  # refused by the API, shown beside the field
    await page.click("#profile-save")
    await expect(
        page.locator("#profile-form [data-field=avg_sentence_length] .field-error")
    ).to_be_visible()
    await page.fill("#pf-avg", "12.5")
    await page.click("#profile-save")
    # 7.54 is above the block threshold: never shown as a rounded "7.5" beside "above 7.5".
    await expect(page.locator("#profile .isc-value")).to_have_text("7.54")
    await expect(page.locator("#profile .isc-rule")).to_contain_text("refused here")
    await page.check("input[name=archetype][value=Journey]")
    await expect(page.locator("#gating [data-gate=refused]")).to_contain_text("7.54")

    # A blacklist regex, tried on sample text first (a browser preview), then added.
    await page.select_option("#bl-kind", "regex")
    await page.fill("#bl-pattern", "(")
    await page.fill("#bl-description", "Broken on purpose")
    await page.click("#bl-add")
    pattern_error = page.locator("#blacklist-form [data-field=pattern] .field-error")
    await expect(pattern_error).to_contain_text("regular expression")
    await page.fill("#bl-pattern", r"\bcode [A-Z]+\d+\b")
    await page.fill("#bl-description", "Discount codes get posts removed")
    await page.select_option("#bl-severity", "high")
    await page.select_option("#bl-scope", "freelance")
    await page.fill("#bl-sample", "Use my code REDDIT20 today, or code SAVE5.")
    preview = page.locator("#bl-preview")
    await expect(preview.locator("[data-matches]")).to_have_attribute("data-matches", "2")
    await expect(preview.locator("mark")).to_have_count(2)
    await expect(preview).to_contain_text("same rules as your drafts")
    await expect(page.locator("#bl-case-hint")).to_contain_text("must match exactly")
    # The preview is the server's engine (RE2): what the browser's engine would accept but the
    # server refuses is refused here too, with the reason.
    await page.fill("#bl-sample", "foobar and aa")
    for refused in ("foo(?=bar)", r"(a)\1"):
        await page.fill("#bl-pattern", refused)
        await expect(preview.locator(".bad")).to_contain_text("cannot be used")
    await page.fill("#bl-pattern", "FOO")
    await expect(preview.locator("[data-matches]")).to_have_attribute("data-matches", "0")
    await page.check("#bl-ignore-case")
    await expect(preview.locator("[data-matches]")).to_have_attribute("data-matches", "1")
    await page.uncheck("#bl-ignore-case")
    await page.fill("#bl-pattern", r"\bcode [A-Z]+\d+\b")
    await page.fill("#bl-sample", "Use my code REDDIT20 today, or code SAVE5.")
    await expect(preview.locator("[data-matches]")).to_have_attribute("data-matches", "2")
    await shot(page, "ui-blacklist-preview")
    await page.click("#bl-add")
    added = page.locator("#blacklist-list .entry[data-kind=regex]", has_text="code [A-Z]")
    await expect(added).to_contain_text("r/freelance only")
    await expect(added).to_contain_text("high")
    await expect(pattern_error).to_be_hidden()
    assert problems == []


async def test_posts_analyzed_into_a_profile_reviewed_then_saved(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
    problems = page_problems(page)
    await _new_campaign(page, "Acme Notes", "freelance")
    await expect(page.locator("[data-testid=no-profile]")).to_be_visible()
    await page.click("#profile-edit")

    # Three post texts pasted as copied (no JSON): a rough estimate, marked low-confidence.
    texts = "\n---\n".join(f"{p['title']}\n{p['body']}" for p in _posts()[:3])
    await page.fill("#analyze-input", texts)
    await page.click("#analyze-run")
    await expect(page.locator("[data-testid=low-confidence]")).to_contain_text(
        "only 3 posts: at least 10"
    )
    await expect(page.locator("[data-testid=proposal]")).to_contain_text("Proposed from 3 posts")

    await page.fill("#analyze-input", json.dumps(_posts()))
    await page.click("#analyze-run")
    proposal = page.locator("[data-testid=proposal]")
    await expect(proposal).to_contain_text("Proposed from 12 posts")
    await expect(proposal.locator(".explanation")).to_contain_text("link sensitivity")
    proposed_isc = (await proposal.locator(".proposal-isc").inner_text()).split(" ")[0]
    await shot(page, "ui-profile-proposal")
    async with api(stack, user) as client:
        campaigns = (await client.get("/v1/campaigns")).json()["campaigns"]
        missing = await client.get(f"/v1/campaigns/{campaigns[0]['id']}/profiles/freelance")
        assert missing.status_code == 404, "analyzing saved the profile"

    await page.click("#analyze-use")
    await expect(page.locator("#pf-sample")).to_have_value("12")
    assert float(await page.locator("#pf-isc").input_value()) == float(proposed_isc)
    # Hooks are the titles of the best-scored posts.
    hooks = await page.locator("#pf-hooks").input_value()
    assert hooks.startswith("I lost a client in month 0"), hooks
    await page.fill("#pf-formality", "6.5")  # the user's own correction
    await page.click("#profile-save")
    await expect(page.locator("#profile .isc-value")).to_have_text(proposed_isc)
    await expect(page.locator("#profile")).to_contain_text("grade 6.5")
    await expect(page.locator("#profile")).to_contain_text("12 posts")
    await shot(page, "ui-profile-saved")
    assert problems == []
