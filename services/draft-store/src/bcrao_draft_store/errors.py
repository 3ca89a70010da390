"""Failures the service reports to its callers, each mapped onto the shared error envelope."""

from __future__ import annotations

from typing import Any

from bcrao_contracts.enums import ErrorCode


class ServiceError(Exception):
    """An expected refusal: carries the HTTP status, the envelope code and JSON-safe details."""

    status_code = 400
    code = ErrorCode.VALIDATION_ERROR

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(ServiceError):
    status_code = 404
    code = ErrorCode.RESOURCE_NOT_FOUND


class Conflict(ServiceError):
    status_code = 409
    code = ErrorCode.CONFLICT


class PreconditionFailed(ServiceError):
    """412: the write named a version (If-Match) the resource no longer has. `details` carry
    the current state (`current`, None when it is gone) and its `version`."""

    status_code = 412
    code = ErrorCode.PRECONDITION_FAILED


class InvalidInput(ServiceError):
    status_code = 422
    code = ErrorCode.VALIDATION_ERROR


class PlanLimitReached(ServiceError):
    """403 when the monthly draft count is used up, 402 when the monthly spend cap is reached."""

    code = ErrorCode.PLAN_LIMIT_REACHED

    def __init__(self, message: str, details: dict[str, Any], *, spend: bool = False) -> None:
        super().__init__(message, details)
        self.status_code = 402 if spend else 403
        self.reason = "spend_cap" if spend else "drafts_per_month"


class IllegalTransition(Conflict):
    def __init__(self, current: str, requested: str) -> None:
        super().__init__(
            f"a draft cannot go from {current} to {requested}",
            {"from": current, "to": requested},
        )


class AuthRequired(ServiceError):
    status_code = 401
    code = ErrorCode.AUTH_REQUIRED


class AuthInvalid(ServiceError):
    status_code = 401
    code = ErrorCode.AUTH_INVALID


class Unavailable(ServiceError):
    status_code = 503
    code = ErrorCode.UNAVAILABLE
