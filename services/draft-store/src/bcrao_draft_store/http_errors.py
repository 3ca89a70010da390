"""Every HTTP error leaves in the shared envelope {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.errors import envelope
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .errors import PlanLimitReached, ServiceError
from .retry import is_transient

log = logging.getLogger(__name__)

STATUS_CODES = {
    401: ErrorCode.AUTH_INVALID,
    404: ErrorCode.RESOURCE_NOT_FOUND,
    405: ErrorCode.RESOURCE_NOT_FOUND,
    409: ErrorCode.CONFLICT,
    412: ErrorCode.PRECONDITION_FAILED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.UNAVAILABLE,
}


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Readable, JSON-safe field errors: where, what, and pydantic's error type."""
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": str(err.get("msg", "invalid value")),
            "type": str(err.get("type", "value_error")),
        }
        for err in exc.errors()
    ]


async def on_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, PlanLimitReached):
        request.app.state.runtime.metrics.quota_refusals.labels(exc.reason).inc()
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(
        envelope(exc.code, exc.message, exc.details), status_code=exc.status_code, headers=headers
    )


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        envelope(
            ErrorCode.VALIDATION_ERROR, "the request is invalid", {"errors": field_errors(exc)}
        ),
        status_code=422,
    )


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    fallback = ErrorCode.INTERNAL_ERROR if exc.status_code >= 500 else ErrorCode.VALIDATION_ERROR
    code = STATUS_CODES.get(exc.status_code, fallback)
    return JSONResponse(
        envelope(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_transient(exc):
        log.warning("database unavailable: %s", exc)
        return JSONResponse(
            envelope(ErrorCode.UNAVAILABLE, "the database is unavailable, try again shortly"),
            status_code=503,
            headers={"Retry-After": "2"},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(envelope(ErrorCode.INTERNAL_ERROR, "internal error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
