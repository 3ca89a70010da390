"""Path and query parameters shared by the routes, validated into 422 envelopes."""

from __future__ import annotations

from typing import Annotated

from bcrao_contracts.enums import (
    BlacklistKind,
    DraftStatus,
    ErrorCode,
    UnknownDraftStatus,
    parse_draft_statuses,
)
from bcrao_contracts.models import SUBREDDIT_INPUT_PATTERN, normalize_subreddit
from bcrao_rules.blacklist import pattern_problem
from fastapi import Path, Query

from bcrao_gateway.errors import ApiError

MAX_STATUS_VALUES = 10


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422,
        ErrorCode.VALIDATION_ERROR,
        "the request is not valid",
        {"errors": [{"field": field, "message": message, "type": "value_error"}]},
    )


def pattern_checked(kind: BlacklistKind, pattern: str) -> str:
    """A blacklist pattern the engine that runs it (RE2, bcrao_rules) accepts, else a 422: the
    same check draft-store makes, so the client hears it without a round trip."""
    if problem := pattern_problem(kind, pattern):
        raise _invalid("body.pattern", problem)
    return pattern


def subreddit_name(value: str, field: str) -> str:
    try:
        return normalize_subreddit(value)
    except ValueError as exc:
        raise _invalid(field, str(exc)) from None


async def path_subreddit(
    subreddit: Annotated[str, Path(max_length=30, pattern=SUBREDDIT_INPUT_PATTERN)],
) -> str:
    """`SaaS` or `r/SaaS` (URL-encoded) in the path; stored without the prefix."""
    return subreddit_name(subreddit, "path.subreddit")


async def query_subreddit(
    subreddit: Annotated[str | None, Query(max_length=30, pattern=SUBREDDIT_INPUT_PATTERN)] = None,
) -> str | None:
    return (
        None
        if subreddit is None or subreddit == ""
        else subreddit_name(subreddit, "query.subreddit")
    )


async def query_statuses(
    status: Annotated[list[str] | None, Query(max_length=MAX_STATUS_VALUES)] = None,
) -> list[DraftStatus]:
    """`?status=a&status=b` or `?status=a,b` (or both); unknown names are a 422."""
    try:
        return parse_draft_statuses(status)
    except UnknownDraftStatus as exc:
        allowed = ", ".join(exc.allowed)
        raise _invalid("query.status", f"unknown status; use one of {allowed}") from None
