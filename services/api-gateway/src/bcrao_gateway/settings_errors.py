"""Turn a settings ValidationError into lines naming the variables, never echoing their values."""

from __future__ import annotations

from pydantic import ValidationError


def describe(exc: ValidationError, prefix: str = "GATEWAY_") -> list[str]:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = "__".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{prefix}{loc}: {message}" if loc else message)
    return lines
