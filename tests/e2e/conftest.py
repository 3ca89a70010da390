"""The three services as OS processes against the real broker and database, and the browser the
UI tests drive: Debian's chromium through playwright (fixtures `chromium` and `browser`).

Chromium missing: the browser tests skip with the reason, except under CI=true, where it is
installed with apt-get (as root) or the test fails. `make setup` (scripts/bootstrap.sh) installs
it too when it can. A browser is never downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from bcrao_contracts import demo
from bcrao_platform.settings import sqlalchemy_url
from bcrao_testkit.databases import create_database, drop_database
from bcrao_testkit.processes import Service, Stack
from bcrao_testkit.sse_client import follow_stream

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".state" / "test-logs"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
# A suite's stacks are idle most of their life, several at once on one broker: their gateways
# fetch as an idle deployment would be told to (docs/OPERATIONS.md, "Idle gateways"), not a
# hundred times a second each (0.14 of a core per idle stack, gateway and broker together).
IDLE_GATEWAY = {"GATEWAY_STREAM__FETCH_WAIT_MS": "500", "GATEWAY_STREAM__FETCH_MIN_BYTES": "1"}


def token_for(stack: Stack, user: str) -> str:
    import time

    now = int(time.time())
    claims = {
        "sub": user,
        "iss": "bcrao-drafts",
        "aud": "bcrao-api",
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, stack.jwt_secret, algorithm="HS256")


@contextmanager
def running_stack(
    kafka: str, database_url: str, *, generator_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    db = create_database(database_url)
    stack = Stack(
        kafka=kafka,
        database_url=sqlalchemy_url(db),
        log_dir=LOGS,
        generator_env={"GENERATOR_OFFLINE_CHUNK_DELAY_MS": "5", **(generator_env or {})},
        gateway_env=IDLE_GATEWAY,
    )
    try:
        stack.start()
        yield stack
    except Exception:
        for svc in stack.services.values():
            print(f"--- {svc.name} log ---\n{svc.tail()}")
        raise
    finally:
        stack.stop()
        drop_database(db)


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, database_url: str) -> Iterator[Stack]:
    with running_stack(kafka_bootstrap, database_url) as running:
        yield running


def api(stack: Stack, user: str = "demo") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.gateway.url,
        headers={"Authorization": f"Bearer {token_for(stack, user)}"},
        timeout=30,
    )


async def create_demo_campaign(client: httpx.AsyncClient) -> str:
    """DOMAIN.md's sample campaign, loaded through the public API as a user would."""
    response = await client.post("/v1/campaigns", json=demo.CAMPAIGN.model_dump(mode="json"))
    assert response.status_code == 201, response.text
    campaign_id = str(response.json()["id"])
    for subreddit, profile in demo.PROFILES.items():
        put = await client.put(
            f"/v1/campaigns/{campaign_id}/profiles/{subreddit}",
            json=profile.model_dump(mode="json"),
        )
        assert put.status_code in (200, 201), put.text
    for entry in demo.BLACKLIST:
        posted = await client.post(
            f"/v1/campaigns/{campaign_id}/blacklist", json=entry.model_dump(mode="json")
        )
        assert posted.status_code == 201, posted.text
    return campaign_id


async def generated_draft(client: httpx.AsyncClient, campaign: str) -> dict[str, Any]:
    """A Feedback draft for r/SaaS generated through the public API: the stored draft its
    stream's `complete` message carries (the stream is followed to the end)."""
    accepted = await client.post(
        f"/v1/campaigns/{campaign}/drafts/generate",
        json={"subreddit": "SaaS", "archetype": "Feedback", "context": "late invoices"},
    )
    assert accepted.status_code == 202, accepted.text
    followed = await follow_stream(client, accepted.json()["stream_url"])
    last = followed.messages[-1].data
    assert last is not None
    assert last["type"] == "complete", followed.types()
    draft: dict[str, Any] = last["draft"]
    return draft


@contextmanager
def extra_gateway(stack: Stack, env: dict[str, str] | None = None) -> Iterator[Service]:
    """Another gateway process of the same deployment (same topics, secrets, draft-store), for
    tests that stop or tune one; its log is printed when the block fails."""
    gateway = stack.service("api-gateway", extra=env)
    gateway.start()
    try:
        gateway.wait_healthy()
        yield gateway
    except Exception:
        print(f"--- {gateway.name}:{gateway.port} log ---\n{gateway.tail()}")
        raise
    finally:
        gateway.stop()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _install_chromium() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail("chromium is missing and cannot be installed here (need root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )


@pytest.fixture(scope="session")
def chromium() -> Path:
    found = shutil.which("chromium")
    if found is None:
        if not _in_ci():
            pytest.skip(
                "Debian's chromium is not installed (apt-get install chromium, or make setup)"
            )
        _install_chromium()
        found = shutil.which("chromium")
        if found is None:
            pytest.fail("apt-get installed chromium but it is still not on PATH")
    return Path(found)


@pytest.fixture(scope="session")
async def _launched(chromium: Path) -> AsyncIterator[Any]:
    """One Chromium per worker (a launch costs about a CPU-second with playwright's driver)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser(_launched: Any) -> AsyncIterator[Any]:
    """The worker's Chromium for one test. Each page a test opens (`new_page`) has a context of
    its own, so nothing (cookies, storage, a page still streaming) outlives the test: every
    context it opened is closed after it."""
    before = set(_launched.contexts)
    yield _launched
    for context in _launched.contexts:
        if context not in before:
            await context.close()
