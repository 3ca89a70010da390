"""Bearer JWTs of users and the short-lived stream tokens carried in `stream_url`.

User tokens: the algorithm is pinned by configuration and a token whose header names another one
(`none`, HS512 when HS256 is configured, ...) is refused before any verification; `exp`, `sub`,
`iss` and `aud` are required. Stream tokens: HS256 under a key derived from the JWT secret, with
their own audience and a `purpose` claim, bound to one user and one task. The two kinds are never
interchangeable: different key, audience and claims.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
from typing import Any
from uuid import UUID

import jwt
from bcrao_contracts.enums import ErrorCode

from bcrao_gateway.config import Settings
from bcrao_gateway.errors import ApiError

STREAM_AUDIENCE = "bcrao-stream"
STREAM_PURPOSE = "stream"
STREAM_ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 8192
# Subjects travel in draft-store URL paths: no slashes, no dot segments, bounded length.
SUBJECT_RE = re.compile(r"^[A-Za-z0-9_.:@|+\-]{1,200}$")


def _required(message: str = "authentication required") -> ApiError:
    return ApiError(401, ErrorCode.AUTH_REQUIRED, message, headers={"WWW-Authenticate": "Bearer"})


def _invalid(message: str = "invalid token") -> ApiError:
    return ApiError(
        401,
        ErrorCode.AUTH_INVALID,
        message,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _valid_subject(claims: dict[str, Any]) -> str:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not SUBJECT_RE.match(sub) or set(sub) == {"."}:
        raise _invalid()
    return sub


@functools.lru_cache(maxsize=16)
def _prepared_key(algorithm: str, material: str) -> Any:
    # Parsing a PEM public key costs far more than verifying a signature: once per key, not
    # once per request.
    return jwt.get_algorithm_by_name(algorithm).prepare_key(material)


def _secrets(settings: Settings) -> list[bytes]:
    """The current secret, then (during a rotation) the previous one."""
    secrets = [settings.jwt_secret.get_secret_value().encode()]
    if settings.jwt_previous_secret is not None:
        secrets.append(settings.jwt_previous_secret.get_secret_value().encode())
    return secrets


def _verification_keys(settings: Settings) -> list[Any]:
    if settings.uses_hmac:
        return list(_secrets(settings))
    assert settings.jwt_public_key is not None  # Settings refuses an asymmetric setup without it
    return [_prepared_key(settings.jwt_algorithm, settings.jwt_public_key)]


@functools.lru_cache(maxsize=16)
def _derived_stream_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"bcrao-gateway/stream-token/v1", hashlib.sha256).digest()


def _stream_key(settings: Settings) -> bytes:
    return _derived_stream_key(settings.jwt_secret.get_secret_value().encode())


def _stream_keys(settings: Settings) -> list[bytes]:
    return [_derived_stream_key(secret) for secret in _secrets(settings)]


def _decode(
    token: str,
    keys: list[Any],
    algorithm: str,
    audience: str,
    settings: Settings,
    claims: list[str],
) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_CHARS:
        raise _invalid()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid() from None
    if header.get("alg") != algorithm:
        raise _invalid()
    for i, key in enumerate(keys):
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=audience,
                issuer=settings.jwt_issuer,
                leeway=settings.jwt_leeway_seconds,
                options={"require": claims},
            )
        except jwt.InvalidSignatureError:
            if i + 1 < len(keys):
                continue  # signed with the other key of a rotation, perhaps
            raise _invalid() from None
        except jwt.ExpiredSignatureError:
            raise _invalid("token expired") from None
        except jwt.PyJWTError:
            raise _invalid() from None
    raise _invalid()


def user_from_bearer(authorization: str | None, settings: Settings) -> str:
    """The user id (`sub`) of a valid `Authorization: Bearer <jwt>` header; 401 otherwise."""
    if authorization is None or not authorization.strip():
        raise _required()
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _invalid("expected 'Authorization: Bearer <token>'")
    claims = _decode(
        token,
        _verification_keys(settings),
        settings.jwt_algorithm,
        settings.jwt_audience,
        settings,
        ["exp", "sub", "iss", "aud"],
    )
    if "purpose" in claims:
        raise _invalid()
    _check_lifetime(claims, settings)
    return _valid_subject(claims)


def _check_lifetime(claims: dict[str, Any], settings: Settings) -> None:
    """Refuse tokens meant to live longer than the configured maximum (exp - iat)."""
    limit = settings.jwt_max_lifetime_seconds
    exp = claims["exp"]  # required, and an int or float (PyJWT checked it)
    iat = claims.get("iat")
    numeric_iat = isinstance(iat, int | float) and not isinstance(iat, bool)
    if numeric_iat and exp - iat > limit:
        raise _invalid("token lifetime exceeds the maximum")
    # Without iat (or with one in the future) the lifetime left is what can be checked.
    if exp - time.time() > limit + settings.jwt_leeway_seconds:
        raise _invalid("token lifetime exceeds the maximum")


def issue_user_token(settings: Settings, user_id: str, ttl_seconds: int = 86_400) -> str:
    """A development bearer token signed with the shared secret (HS* configurations only)."""
    if not settings.uses_hmac:
        raise RuntimeError(f"dev tokens need an HS* algorithm, not {settings.jwt_algorithm}")
    if not SUBJECT_RE.match(user_id) or set(user_id) == {"."}:
        raise ValueError("user ids are 1-200 letters, digits or _.:@|+-")
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(
        claims, settings.jwt_secret.get_secret_value().encode(), algorithm=settings.jwt_algorithm
    )


def sign_stream_token(settings: Settings, user_id: str, task_id: UUID) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": STREAM_AUDIENCE,
        "purpose": STREAM_PURPOSE,
        "sub": user_id,
        "tid": str(task_id),
        "iat": now,
        "exp": now + settings.stream_token_ttl_seconds,
    }
    return jwt.encode(claims, _stream_key(settings), algorithm=STREAM_ALGORITHM)


def verify_stream_token(settings: Settings, token: str, task_id: UUID) -> str:
    """The user id a stream token was issued to, if valid for this very task; 401 otherwise."""
    if not token:
        raise _required()
    claims = _decode(
        token,
        _stream_keys(settings),
        STREAM_ALGORITHM,
        STREAM_AUDIENCE,
        settings,
        ["exp", "sub", "iss", "aud", "tid", "purpose"],
    )
    if claims.get("purpose") != STREAM_PURPOSE or claims.get("tid") != str(task_id):
        raise _invalid()
    return _valid_subject(claims)
