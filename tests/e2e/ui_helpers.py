"""What the browser tests share besides the `chromium` and `browser` fixtures (conftest.py): a
signed-in page, the screenshots folder, and ways to hold the real generator or gateway still."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bcrao_testkit.processes import Stack

from .conftest import ROOT

SHOTS = ROOT / "screenshots"  # git-ignored
TIMEOUT_MS = 60_000


def page_problems(page: Any) -> list[str]:
    """Script errors and CSP violations; a failed request (404 profile, 409) is expected here."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message: Any) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    return problems


async def signed_in_page(browser: Any, base_url: str, token: str, user: str, **options: Any) -> Any:
    """A page at the UI with `token` pasted, once the page says who is signed in."""
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, **options)
    await page.goto(base_url + "/")
    await page.fill("#token-input", token)
    await page.click("#token-form button[type=submit]")
    await expect(page.locator("#token-state")).to_contain_text(f"Signed in as {user}")
    return page


async def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


async def fill_generate_form(page: Any, campaign: str) -> None:
    """The generate form filled for the demo campaign's r/SaaS (profile shown), not submitted."""
    from playwright.async_api import expect

    await expect(page.locator("#campaign-select")).to_be_enabled()
    await page.select_option("#campaign-select", campaign)
    await page.select_option("#subreddit-select", "SaaS")
    await expect(page.locator("#profile .isc-value")).to_have_text("6.4")
    await page.check("input[name=archetype][value=ProblemSolution]")
    await page.fill("#context-input", "Chasing late payments from clients eats my Fridays")


async def confirm(page: Any) -> None:
    """Accept the page's own confirmation dialog (a <dialog>, not window.confirm)."""
    from playwright.async_api import expect

    await expect(page.locator("#confirm-dialog")).to_be_visible()
    await page.click("#confirm-ok")
    await expect(page.locator("#confirm-dialog")).to_be_hidden()


@contextmanager
def generator_paused(stack: Stack) -> Iterator[None]:
    """SIGSTOP the real generator, so accepted tasks stay queued and their streams stay open."""
    process = stack.services["generator"].process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)
