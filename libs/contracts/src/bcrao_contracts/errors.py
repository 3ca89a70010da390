"""The one error envelope: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from .base import Contract
from .enums import ErrorCode


class ErrorBody(Contract):
    code: ErrorCode
    message: str
    details: dict[str, Any] = {}


class ErrorEnvelope(Contract):
    error: ErrorBody


def envelope(
    code: ErrorCode, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code.value, "message": message, "details": details or {}}}
