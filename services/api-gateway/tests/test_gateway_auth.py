"""Bearer and stream tokens: every way a token can be wrong is a 401 in the envelope."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from bcrao_gateway.auth import (
    issue_user_token,
    sign_stream_token,
    user_from_bearer,
    verify_stream_token,
)
from bcrao_gateway.config import Settings
from bcrao_gateway.errors import ApiError

SECRET_FROM_CONFTEST = "test-secret-" + "k" * 40


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": "bcrao-drafts", "aud": "bcrao-api", "sub": "alice", "exp": now + 300}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], key: str = SECRET_FROM_CONFTEST, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    return f"{header}.{_b64(claims)}.{signature}"


def test_valid_token_gives_the_subject(settings: Settings) -> None:
    assert user_from_bearer(f"Bearer {_sign(_claims())}", settings) == "alice"
    assert user_from_bearer(f"bearer {_sign(_claims(sub='bob'))}", settings) == "bob"


def test_dev_token_round_trips(settings: Settings) -> None:
    token = issue_user_token(settings, "demo", ttl_seconds=60)
    assert user_from_bearer(f"Bearer {token}", settings) == "demo"


BAD_TOKENS = {
    "expired": lambda: _sign(_claims(exp=int(time.time()) - 120)),
    "tampered": lambda: _tampered(_sign(_claims())),
    "wrong_audience": lambda: _sign(_claims(aud="someone-else")),
    "wrong_issuer": lambda: _sign(_claims(iss="evil")),
    "alg_none": lambda: _unsigned(_claims()),
    "hs512_when_hs256": lambda: _sign(_claims(), alg="HS512"),
    "other_secret": lambda: _sign(_claims(), key="another-secret-" + "z" * 40),
    "no_exp": lambda: _sign(_claims(exp=None)),
    "no_sub": lambda: _sign(_claims(sub=None)),
    "path_in_sub": lambda: _sign(_claims(sub="../bob")),
    "garbage": lambda: "not.a.jwt",
    "stream_token_as_bearer": lambda: None,  # built in the test: needs settings
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_bearer_tokens_are_401_auth_invalid(
    case: str, settings: Settings, client: httpx.AsyncClient
) -> None:
    token = BAD_TOKENS[case]()
    if token is None:
        token = sign_stream_token(settings, "alice", uuid4())
    with pytest.raises(ApiError) as raised:
        user_from_bearer(f"Bearer {token}", settings)
    assert (raised.value.status, raised.value.code.value) == (401, "AUTH_INVALID")

    response = await client.get("/v1/campaigns", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_INVALID"
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert token not in response.text


async def test_expired_token_says_so(settings: Settings, client: httpx.AsyncClient) -> None:
    token = _sign(_claims(exp=int(time.time()) - 120))
    response = await client.get("/v1/usage", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["error"]["message"] == "token expired"


async def test_leeway_accepts_a_just_expired_token(settings: Settings) -> None:
    token = _sign(_claims(exp=int(time.time()) - 5))
    assert user_from_bearer(f"Bearer {token}", settings) == "alice"


@pytest.mark.parametrize("header", [None, "", "   "])
async def test_missing_credentials_are_auth_required(
    header: str | None, settings: Settings, client: httpx.AsyncClient
) -> None:
    with pytest.raises(ApiError) as raised:
        user_from_bearer(header, settings)
    assert raised.value.code.value == "AUTH_REQUIRED"
    headers = {} if header is None else {"Authorization": header}
    response = await client.get("/v1/campaigns", headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "AUTH_REQUIRED", "message": "authentication required", "details": {}}
    }
    assert response.headers["www-authenticate"] == "Bearer"


async def test_basic_scheme_is_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/campaigns", headers={"Authorization": "Basic YTpi"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_INVALID"


def test_stream_token_is_bound_to_user_and_task(settings: Settings) -> None:
    task_id = uuid4()
    token = sign_stream_token(settings, "alice", task_id)
    assert verify_stream_token(settings, token, task_id) == "alice"
    with pytest.raises(ApiError) as raised:
        verify_stream_token(settings, token, uuid4())
    assert (raised.value.status, raised.value.code.value) == (401, "AUTH_INVALID")


def test_bearer_token_is_not_a_stream_token(settings: Settings) -> None:
    task_id = uuid4()
    bearer = issue_user_token(settings, "alice")
    same_claims_with_tid = _sign(_claims(tid=str(task_id), purpose="stream"))
    for token in (bearer, same_claims_with_tid):
        with pytest.raises(ApiError) as raised:
            verify_stream_token(settings, token, task_id)
        assert raised.value.code.value == "AUTH_INVALID"


def test_expired_stream_token_is_refused(
    settings_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_factory(stream_token_ttl_seconds=10, jwt_leeway_seconds=0)
    task_id = uuid4()
    fresh = sign_stream_token(settings, "alice", task_id)
    claims = jwt.decode(fresh, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 10
    assert claims["aud"] != settings.jwt_audience
    assert verify_stream_token(settings, fresh, task_id) == "alice"

    real_time = time.time
    monkeypatch.setattr("bcrao_gateway.auth.time.time", lambda: real_time() - 60)
    stale = sign_stream_token(settings, "alice", task_id)
    monkeypatch.undo()
    with pytest.raises(ApiError) as raised:
        verify_stream_token(settings, stale, task_id)
    assert raised.value.message == "token expired"


def test_empty_stream_token_is_auth_required(settings: Settings) -> None:
    with pytest.raises(ApiError) as raised:
        verify_stream_token(settings, "", uuid4())
    assert raised.value.code.value == "AUTH_REQUIRED"


def test_rs256_configuration_verifies_with_the_public_key(settings_factory: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = settings_factory(jwt_algorithm="RS256", jwt_public_key=public_pem.decode())
    good = jwt.encode(_claims(), private, algorithm="RS256")
    assert user_from_bearer(f"Bearer {good}", settings) == "alice"
    # Key confusion: an HS256 token "signed" with the public key text must not pass.
    forged = _sign(_claims(), key=SECRET_FROM_CONFTEST)
    with pytest.raises(ApiError):
        user_from_bearer(f"Bearer {forged}", settings)
    # Stream tokens still work (they never depend on the user-token algorithm).
    task_id = uuid4()
    assert verify_stream_token(settings, sign_stream_token(settings, "alice", task_id), task_id)
    with pytest.raises(RuntimeError):
        issue_user_token(settings, "alice")


@pytest.mark.parametrize(
    "claims",
    [
        {"iat": 0, "exp": 100 * 365 * 86_400},  # a 100-year token issued long ago
        {"exp": int(time.time()) + 100 * 365 * 86_400},  # no iat, 100 years ahead
        {"iat": int(time.time()), "exp": int(time.time()) + 8 * 86_400},  # one day too long
    ],
    ids=["hundred_years", "no_iat_far_exp", "eight_days"],
)
def test_tokens_meant_to_live_too_long_are_auth_invalid(
    settings: Settings, claims: dict[str, Any]
) -> None:
    with pytest.raises(ApiError) as raised:
        user_from_bearer(f"Bearer {_sign(_claims(**claims))}", settings)
    assert raised.value.status == 401
    assert raised.value.code.value == "AUTH_INVALID"


def test_a_token_within_the_maximum_lifetime_is_accepted(settings_factory: Any) -> None:
    now = int(time.time())
    settings = settings_factory(jwt_max_lifetime_seconds=3600)
    within = _sign(_claims(iat=now, exp=now + 3600))
    assert user_from_bearer(f"Bearer {within}", settings) == "alice"
    beyond = _sign(_claims(iat=now, exp=now + 3601))
    with pytest.raises(ApiError):
        user_from_bearer(f"Bearer {beyond}", settings)


NEW_SECRET = "rotated-secret-" + "n" * 40


def test_during_a_rotation_tokens_of_both_secrets_verify_and_new_ones_use_the_new(
    settings_factory: Any,
) -> None:
    rotating = settings_factory(jwt_secret=NEW_SECRET, jwt_previous_secret=SECRET_FROM_CONFTEST)
    old_user_token = _sign(_claims())  # signed with the secret being replaced
    assert user_from_bearer(f"Bearer {old_user_token}", rotating) == "alice"
    assert user_from_bearer(f"Bearer {_sign(_claims(), key=NEW_SECRET)}", rotating) == "alice"
    old = settings_factory()  # a gateway still on the previous secret only
    task = uuid4()
    old_stream_token = sign_stream_token(old, "alice", task)
    assert verify_stream_token(rotating, old_stream_token, task) == "alice"
    new_stream_token = sign_stream_token(rotating, "alice", task)
    with pytest.raises(ApiError):  # signed with the new secret, not the previous one
        verify_stream_token(old, new_stream_token, task)


def test_after_the_rotation_the_previous_secret_is_refused(settings_factory: Any) -> None:
    done = settings_factory(jwt_secret=NEW_SECRET)
    with pytest.raises(ApiError) as raised:
        user_from_bearer(f"Bearer {_sign(_claims())}", done)
    assert raised.value.code.value == "AUTH_INVALID"
    with pytest.raises(ApiError):
        user_from_bearer(f"Bearer {_sign(_claims(), key='x' * 40)}", done)


def test_a_short_previous_secret_is_refused_at_start(settings_factory: Any) -> None:
    with pytest.raises(ValueError, match="GATEWAY_JWT_PREVIOUS_SECRET"):
        settings_factory(jwt_previous_secret="short")
