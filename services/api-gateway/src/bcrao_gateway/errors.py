"""One error envelope for every answer the gateway gives: {"error": {"code", "message", "details"}}.

Codes and statuses (DOMAIN.md): AUTH_REQUIRED/AUTH_INVALID 401, RESOURCE_NOT_FOUND 404,
VALIDATION_ERROR 422 (also used with 405 for a wrong method, keeping the Allow header: the contract
has no METHOD_NOT_ALLOWED code), PLAN_LIMIT_REACHED 403/402, CONFLICT 409, PAYLOAD_TOO_LARGE 413,
RATE_LIMITED 429, UNAVAILABLE 503, INTERNAL_ERROR 500 (never a stack trace).
"""

from __future__ import annotations

import logging
from typing import Any, get_args

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.errors import envelope
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

log = logging.getLogger("bcrao_gateway.errors")

MAX_REPORTED_ERRORS = 20
MAX_MESSAGE_CHARS = 300


class ApiError(Exception):
    """An error the client should see as it is: status, code, message, details, extra headers."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.headers = headers

    def to_response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.details, self.headers)

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code.value}, {self.message!r})"


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, ErrorCode.RESOURCE_NOT_FOUND, f"{what} not found")


def unavailable(message: str, retry_after: int = 5) -> ApiError:
    return ApiError(
        503,
        ErrorCode.UNAVAILABLE,
        message,
        {"retry_after_seconds": retry_after},
        {"Retry-After": str(retry_after)},
    )


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(envelope(code, message, details), status_code=status, headers=headers)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (`StyleGuide | None`, `Annotated[...]`, ...), if one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if found := _model_in(arg):
            return found
    return None


def _model_at(body: type[BaseModel] | None, path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model found at `path` inside the request body's model (list indexes skipped)."""
    model = body
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_in(field.annotation) if field is not None else None
    return model


def _unknown_field(error: Any, body: type[BaseModel] | None) -> str:
    """A field the body has no place for, said with the fields it does have: a guessed key (the
    style guide's `avoid`) is answered with the real ones (`words_to_avoid`)."""
    loc = tuple(error.get("loc", ()))
    model = _model_at(body, loc[1:-1]) if loc[:1] == ("body",) else None
    if model is None:
        return "is not a known field"
    return f"is not a known field; the fields here are {', '.join(model.model_fields)}"


def _in_words(error: Any, body: type[BaseModel] | None = None) -> str:
    """pydantic's message for one field, in a person's words where the type is a common one."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    message = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return _unknown_field(error, body)
    if kind == "json_invalid":
        return f"invalid JSON: {ctx.get('error', 'cannot parse')}"
    if kind == "too_short" and "min_length" in ctx:
        given = ctx.get("actual_length")
        extra = f" ({given} given)" if given is not None else ""
        return f"needs at least {ctx['min_length']} entries{extra}"
    if kind == "too_long" and "max_length" in ctx:
        given = ctx.get("actual_length")
        extra = f" ({given} given)" if given is not None else ""
        return f"takes at most {ctx['max_length']} entries{extra}"
    if kind == "string_too_short" and "min_length" in ctx:
        return f"needs at least {ctx['min_length']} characters"
    if kind == "string_too_long" and "max_length" in ctx:
        return f"takes at most {ctx['max_length']} characters"
    if kind.startswith("url_"):
        return "is not a web address: write it like https://example.com"
    if kind == "missing":
        return "is required"
    if kind == "enum" and "expected" in ctx:
        return f"must be one of {ctx['expected']}"
    return message.removeprefix("Value error, ")


def readable_validation_errors(
    errors: Any, body: type[BaseModel] | None = None
) -> list[dict[str, str]]:
    """Field errors without the offending input (it may be huge, or a secret pasted by mistake).
    `body`: the request body's model, to name the fields an unknown one could have been."""
    readable: list[dict[str, str]] = []
    for error in list(errors)[:MAX_REPORTED_ERRORS]:
        loc = ".".join(str(part) for part in error.get("loc", ()))
        message = _in_words(error, body)
        readable.append(
            {
                "field": loc[:MAX_MESSAGE_CHARS],
                "message": message[:MAX_MESSAGE_CHARS],
                "type": str(error.get("type", "")),
            }
        )
    return readable


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette's Allow names one route's only)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def slash_redirect(request: Request) -> Response | None:
    """307 to the same path with (or without) its trailing slash, when that one is a route.

    Starlette's own redirect (turned off in create_app) builds an absolute URL from the Host
    header, so `Host: evil.example` sent clients elsewhere. This Location is a path on the same
    origin, built from the raw request path; a path that would turn into a scheme-relative URL
    (`//host`, `/\\host`) is never redirected.
    """
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    if path == "/" or not path.startswith("/"):
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if not other or other[1:2] in ("/", "\\"):
        return None
    decoded = request.scope["path"]
    probe_path = decoded.rstrip("/") if decoded.endswith("/") else decoded + "/"
    probe = {**request.scope, "path": probe_path}
    if not any(route.matches(probe)[0] is not Match.NONE for route in request.app.router.routes):
        return None
    query = request.scope.get("query_string", b"").decode("latin-1")
    return Response(status_code=307, headers={"Location": other + (f"?{query}" if query else "")})


def _status_error(
    status: int, headers: dict[str, str] | None, request: Request
) -> JSONResponse | Response:
    if status == 404:
        redirect = slash_redirect(request)
        if redirect is not None:
            return redirect
        return error_response(404, ErrorCode.RESOURCE_NOT_FOUND, "no such resource")
    if status == 405:
        allowed = _allowed_methods(request)
        return error_response(
            405,
            ErrorCode.VALIDATION_ERROR,
            f"method {request.method} is not allowed here",
            {"method": request.method, "allowed": allowed},
            {**(headers or {}), "Allow": ", ".join(allowed)},
        )
    if status == 413:
        return error_response(413, ErrorCode.PAYLOAD_TOO_LARGE, "request body too large")
    if status == 401:
        return error_response(
            401, ErrorCode.AUTH_REQUIRED, "authentication required", None, headers
        )
    if status == 429:
        return error_response(429, ErrorCode.RATE_LIMITED, "too many requests", None, headers)
    if status == 503:
        return error_response(503, ErrorCode.UNAVAILABLE, "service unavailable", None, headers)
    if status >= 500:
        return error_response(500, ErrorCode.INTERNAL_ERROR, "internal error")
    # 400 "error parsing the body" and any other client error: the request was not acceptable.
    return error_response(422, ErrorCode.VALIDATION_ERROR, "the request could not be read")


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.to_response()


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    body = _model_in(getattr(getattr(field, "field_info", None), "annotation", None))
    errors = readable_validation_errors(exc.errors(), body)
    return error_response(
        422, ErrorCode.VALIDATION_ERROR, "the request is not valid", {"errors": errors}
    )


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse | Response:
    assert isinstance(exc, StarletteHTTPException)
    return _status_error(exc.status_code, dict(exc.headers or {}), request)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Fallback for apps without the gateway middleware (which handles these first)."""
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": getattr(request.state, "request_id", None)},
    )
    return error_response(500, ErrorCode.INTERNAL_ERROR, "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
