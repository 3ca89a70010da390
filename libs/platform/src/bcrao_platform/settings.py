"""Loading a service's settings at start: fail fast, naming the setting and the rule only.

A value is never printed: it may be a key or a password.
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)


def describe_errors(exc: ValidationError, env_prefix: str) -> str:
    return "; ".join(
        f"{env_prefix}{'__'.join(str(part) for part in err['loc']).upper()}: "
        + err["msg"].removeprefix("Value error, ")  # the validator's own sentence is enough
        for err in exc.errors(include_input=False, include_url=False)
    )


def load_settings(
    cls: type[S], *, env_prefix: str, program: str, overrides: dict[str, Any] | None = None
) -> S:
    """`cls(**overrides)` from the environment, or exit 2 naming the wrong settings only."""
    try:
        return cls(**(overrides or {}))
    except ValidationError as exc:
        print(
            f"{program}: invalid configuration: {describe_errors(exc, env_prefix)}",
            file=sys.stderr,
        )
        raise SystemExit(2) from None


def sqlalchemy_url(url: str) -> str:
    """A libpq URL (`postgresql://` or `postgres://`, what operators and PostgreSQL tools write)
    as SQLAlchemy's psycopg 3 URL (`postgresql+psycopg://`, sync or async); others unchanged.

    Pure string work, here so draft-store and the test kit share one rewrite without this library
    depending on SQL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url
