"""Streams that end and say so, in the browser: a campaign deleted while its draft is being
written ends the view with the reason; a gateway that stays down is reported after about 30 s
(an accepted draft will still appear; the page's clock is fast-forwarded over that wait) while
the page keeps retrying, and it recovers when a gateway is back. The generator is paused
(SIGSTOP) so the task is still running when it happens.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import bcrao_gateway
import pytest
from bcrao_testkit.processes import Stack

from .conftest import api, create_demo_campaign, extra_gateway, token_for
from .ui_helpers import (
    TIMEOUT_MS,
    fill_generate_form,
    generator_paused,
    page_problems,
    shot,
    signed_in_page,
)

# How long the page waits without a connection before it calls the server unreachable (the UI's
# own constant, read from its source so the test follows it).
OFFLINE_AFTER_MS = int(
    re.search(
        r"OFFLINE_AFTER_MS = ([\d_]+);",
        (Path(bcrao_gateway.__file__).parent / "ui" / "stream.js").read_text(),
    )[1].replace("_", "")
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def _start_generation(page: Any, campaign: str) -> None:
    from playwright.async_api import expect

    await fill_generate_form(page, campaign)
    await page.click("#generate-btn")
    await expect(page.locator("#connection")).to_have_text("Live")


async def test_a_campaign_deleted_mid_generation_ends_the_view(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
        page = await signed_in_page(browser, stack.gateway.url, token_for(stack, user), user)
        problems = page_problems(page)
        with generator_paused(stack):
            await _start_generation(page, campaign)
            deleted = await client.delete(f"/v1/campaigns/{campaign}")
            assert deleted.status_code == 204, deleted.text
            ended = page.locator("#stream-error .error-box")
            await expect(ended).to_contain_text("campaign was deleted")
            await expect(page.locator("#connection")).to_have_text("Stopped")
            await expect(page.locator("#generate-btn")).to_have_text("Generate draft")
            # The page reloads the campaigns: the deleted one is gone from the picker.
            await expect(
                page.locator(f"#campaign-select option[value='{campaign}']")
            ).to_have_count(0)
            await shot(page, "ui-campaign-deleted-mid-generation")
        usage = (await client.get("/v1/usage")).json()
        assert usage["drafts_used"] == 0, "the failed task's unit was not given back"
        assert problems == []


async def test_a_gateway_that_stays_down_is_reported_and_the_page_recovers(
    stack: Stack, browser: Any
) -> None:
    from playwright.async_api import expect

    user = f"ui-{secrets.token_hex(4)}"
    async with api(stack, user) as client:
        campaign = await create_demo_campaign(client)
    with extra_gateway(stack) as gateway:
        page = await signed_in_page(browser, gateway.url, token_for(stack, user), user)
        # The page's clock is Playwright's: the half minute without a connection after which the
        # page calls the server unreachable passes at once instead of in real time.
        await page.clock.install()
        with generator_paused(stack):
            await _start_generation(page, campaign)
            gateway.stop()
            await expect(page.locator("#connection")).to_have_text("Reconnecting…")
            offline = page.locator("#stream-notice[data-testid=offline]")
            await expect(offline).to_be_hidden()
            await page.clock.fast_forward(OFFLINE_AFTER_MS)
            await expect(offline).to_contain_text("cannot be reached")
            await expect(offline).to_contain_text("will appear in Drafts")
            await expect(page.locator("#connection")).to_have_text("Server unreachable")
            await shot(page, "ui-gateway-down")

            back = gateway.replacement()
            back.start()
            try:
                back.wait_healthy()
                await expect(page.locator("#connection")).to_have_text("Live", timeout=TIMEOUT_MS)
                await expect(offline).to_be_hidden()
            except BaseException:
                back.stop()
                raise
        try:
            draft = page.locator("#result [data-testid=draft]")
            await expect(draft).to_be_visible(timeout=2 * TIMEOUT_MS)
            await expect(page.locator("#connection")).to_have_text("Done")
            await expect(page.locator("#drafts-list .draft-item")).to_have_count(1)
            await shot(page, "ui-gateway-back")
        finally:
            back.stop()
