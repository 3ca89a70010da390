"""What the OpenAPI document says about errors and authentication, so clients (and the
property-based test) see the real answers: every error is the one envelope."""

from __future__ import annotations

from typing import Any

from bcrao_contracts.errors import ErrorEnvelope
from fastapi.security import HTTPBearer

# Documents `Authorization: Bearer <jwt>`; the check itself is auth.user_from_bearer.
bearer_scheme = HTTPBearer(auto_error=False, description="JWT (HS256 by default), `sub` = user")

_DESCRIPTIONS = {
    401: "AUTH_REQUIRED or AUTH_INVALID",
    402: "PLAN_LIMIT_REACHED: the month's LLM spend cap is reached",
    403: "PLAN_LIMIT_REACHED: the month's drafts are used up",
    404: "RESOURCE_NOT_FOUND (also for another user's resources)",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED: If-Match names an old version; `details.current` is the state now",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED (see Retry-After)",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE (see Retry-After)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[s]} for s in statuses}


COMMON = (401, 413, 422, 500, 503)
