"""Limits the browser explains instead of failing on: the month's drafts used up (Generate off,
with the reason and the reset date), a rate limit (a countdown from Retry-After), and an expired
token (one clear message, however many requests it failed)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import psycopg
import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, extra_gateway, token_for
from .ui_helpers import (
    TIMEOUT_MS,
    fill_generate_form,
    page_problems,
    shot,
    signed_in_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _use_units(stack: Stack, user: str, count: int) -> None:
    """Earlier drafts of this month, as draft-store's ledger records them (the setup of a user who
    has generated `count` drafts already; generating them for real would only take longer)."""
    now = datetime.now(UTC)
    period = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    url = stack.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        for _ in range(count):
            conn.execute(
                "INSERT INTO usage_ledger (id, user_id, task_id, period_start, state, cost_usd)"
                " VALUES (gen_random_uuid(), %s, gen_random_uuid(), %s, 'used', 0)",
                (user, period),
            )


async def test_the_last_draft_of_the_month_turns_generate_off(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        _use_units(stack, user, 9)
        page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
        problems = page_problems(page)
        await fill_generate_form(page, campaign)
        await expect(page.locator("#usage")).to_contain_text("9 / 10")
        # From 80 %: a warning that says what is left and how to get more, before it bites.
        warning = page.locator("#usage-warning")
        await expect(warning).to_contain_text("used 9 of your 10 drafts this month: 1 left")
        await expect(warning).to_contain_text("ask your administrator to move you to the starter")
        await expect(page.locator("#rate-hint")).to_contain_text("drafts a minute")
        await expect(page.locator("#generate-btn")).to_be_enabled()
        await page.click("#generate-btn")
        await page.locator("#result [data-testid=draft]").wait_for(timeout=TIMEOUT_MS)

        await expect(page.locator("#usage")).to_contain_text("10 / 10")
        await expect(page.locator("#generate-btn")).to_be_disabled()
        blocked = page.locator("#generate-blocked")
        await expect(blocked).to_contain_text("used all 10 drafts of the trial plan")
        resets = datetime.fromisoformat((await client.get("/v1/usage")).json()["resets_at"])
        await expect(blocked).to_contain_text(str(resets.year))
        await expect(blocked).to_contain_text("More on")
        await expect(blocked).to_contain_text("starter plan")
        await expect(warning).to_be_hidden()
        # The gating box no longer says "Allowed", and every disabled button says why.
        gate = page.locator("#gating [data-gate=blocked]")
        await expect(gate).to_contain_text("you cannot generate right now")
        await expect(gate).to_contain_text("used all 10 drafts")
        await page.locator("#drafts-list .draft-item").first.click()
        await expect(page.locator("#regenerate-btn")).to_be_disabled()
        await expect(page.locator("#regenerate-blocked")).to_contain_text("used all 10 drafts")
        await shot(page, "ui-limit-reached")
        assert problems == []


async def test_a_rate_limit_counts_down_before_generate_comes_back(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
    with extra_gateway(stack, {"GATEWAY_GENERATE_RATE_PER_MINUTE": "1"}) as gateway:
        page = await signed_in_page(browser, gateway.url, token_for(stack, user), user)
        problems = page_problems(page)
        await fill_generate_form(page, campaign)
        await page.click("#generate-btn")
        await page.locator("#result [data-testid=draft]").wait_for(timeout=TIMEOUT_MS)
        await expect(page.locator("#generate-btn")).to_be_enabled()
        await page.click("#generate-btn")

        limited = page.locator("#generate-error .error-box[data-code=RATE_LIMITED]")
        await expect(limited.locator(".countdown")).to_contain_text("You can try again in")
        await expect(page.locator("#generate-btn")).to_be_disabled()
        await expect(limited.locator(".error-title")).to_have_text(
            "Too many drafts asked for in a minute."
        )
        await expect(limited.locator(".support-code")).to_have_text("For support: RATE_LIMITED")
        assert "Retry After" not in await page.locator("#generate-error").inner_text()
        first = await limited.locator(".countdown").inner_text()
        await expect(limited.locator(".countdown")).not_to_have_text(first)  # it counts
        await shot(page, "ui-rate-limited")
        assert problems == []


async def test_an_expired_token_is_said_once(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        await create_demo_campaign(client)
    now = int(time.time())
    claims = {"sub": user, "iss": "bcrao-drafts", "aud": "bcrao-api", "iat": now - 7200}
    expired = jwt.encode({**claims, "exp": now - 3600}, stack.jwt_secret, algorithm="HS256")

    expect.set_options(timeout=TIMEOUT_MS)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(stack.gateway.url + "/")
    await page.fill("#token-input", expired)
    await page.click("#token-form button[type=submit]")
    message = page.locator("#global-error [data-testid=auth-message]")
    await expect(message).to_contain_text("Your sign-in key has expired")
    await expect(message).to_contain_text("make token")
    await expect(page.locator("#token-state")).to_have_text("Key expired")
    await expect(page.locator("#token-form")).to_be_visible()
    # One message: no section repeats the 401 in its own box.
    await expect(page.locator(".error-box[data-code^=AUTH_]")).to_have_count(1)
    await shot(page, "ui-token-expired")

    # A fresh token clears it and the campaigns load.
    await page.fill("#token-input", token_for(stack, user))
    await page.click("#token-form button[type=submit]")
    await expect(page.locator("#global-error")).to_be_hidden()
    await expect(page.locator("#campaign-select")).to_be_enabled()
