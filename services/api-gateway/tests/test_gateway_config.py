"""Settings fail fast with messages that name the variable and never echo a secret."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from bcrao_gateway.__main__ import load_settings
from bcrao_gateway.auth import user_from_bearer
from bcrao_gateway.config import Settings
from bcrao_gateway.publisher import KafkaPublisher, PublishError
from bcrao_gateway.streaming.settings import StreamSettings
from bcrao_gateway.tokens import main as token_main
from pydantic import ValidationError

GOOD_SECRET = "env-secret-" + "e" * 32


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("GATEWAY_JWT_SECRET", "GATEWAY_DRAFT_STORE_TOKEN", "GATEWAY_JWT_ALGORITHM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GATEWAY_JWT_SECRET", GOOD_SECRET)
    monkeypatch.setenv("GATEWAY_DRAFT_STORE_TOKEN", "svc-token-from-env-123")
    return monkeypatch


def test_settings_from_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("GATEWAY_PORT", "9001")
    env.setenv("GATEWAY_STREAM__PING_SECONDS", "5")
    settings = Settings()  # type: ignore[call-arg]
    assert settings.port == 9001
    assert isinstance(settings.stream, StreamSettings)
    assert settings.stream.ping_seconds == 5
    assert settings.jwt_algorithm == "HS256"
    assert (settings.max_body_bytes, settings.generate_rate_per_minute) == (65_536, 10)
    assert GOOD_SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"jwt_secret": "too-short"}, "at least 32 bytes"),
        ({"draft_store_token": "short"}, "GATEWAY_DRAFT_STORE_TOKEN"),
        ({"jwt_algorithm": "RS256"}, "GATEWAY_JWT_PUBLIC_KEY"),
        ({"jwt_algorithm": "none"}, "jwt_algorithm"),
    ],
)
def test_bad_settings_fail_fast(
    settings_factory: Any, overrides: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        settings_factory(**overrides)
    assert fragment in str(raised.value)


def test_missing_secret_exits_2_without_echoing_values(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("GATEWAY_JWT_SECRET", "hunter2-short")
    with pytest.raises(SystemExit) as raised:
        load_settings()
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "GATEWAY_JWT_SECRET must be at least 32 bytes" in err
    assert "hunter2" not in err

    env.delenv("GATEWAY_DRAFT_STORE_TOKEN")
    with pytest.raises(SystemExit):
        load_settings()
    assert "GATEWAY_DRAFT_STORE_TOKEN: Field required" in capsys.readouterr().err


def test_token_cli_prints_a_usable_token(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.delenv("GATEWAY_DRAFT_STORE_TOKEN")  # not needed to mint a token
    token_main(["--user", "demo-user", "--ttl", "120"])
    token = capsys.readouterr().out.strip()
    settings = Settings(draft_store_token="irrelevant-here-123")  # type: ignore[call-arg]
    assert user_from_bearer(f"Bearer {token}", settings) == "demo-user"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120


def test_token_cli_refuses_bad_user(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as raised:
        token_main(["--user", "../admin"])
    assert raised.value.code == 2


async def test_publisher_refuses_before_start(settings: Settings) -> None:
    from uuid import uuid4

    from bcrao_contracts.events import GenerationFailed

    publisher = KafkaPublisher(settings)
    assert publisher.ready is False
    event = GenerationFailed(
        task_id=uuid4(),
        producer="api-gateway",
        user_id="alice",
        campaign_id=uuid4(),
        code="UNAVAILABLE",
        message="x",
    )
    with pytest.raises(PublishError):
        await publisher.publish(event)
