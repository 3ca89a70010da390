"""The three services as OS processes against the real broker and database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from bcrao_contracts import demo
from bcrao_platform.settings import sqlalchemy_url
from bcrao_testkit.databases import create_database, drop_database
from bcrao_testkit.processes import Service, Stack

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".state" / "test-logs"


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
