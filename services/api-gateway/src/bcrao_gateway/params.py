"""Path and query parameters shared by the routes, validated into 422 envelopes."""

from __future__ import annotations

import re
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
from fastapi import Header, Path, Query

from bcrao_gateway.errors import ApiError

MAX_STATUS_VALUES = 10
# An Idempotency-Key (ADR 0010): 1-255 visible ASCII characters other than `"` and `\`, bare,
# or as the IETF draft writes it, a Structured Field string (in double quotes; with those two
# characters left out, it needs no escapes and the two forms cannot be confused).
KEY = r"[\x21\x23-\x5b\x5d-\x7e]{1,255}"
BARE_KEY = re.compile(KEY)
QUOTED_KEY = re.compile(f'"({KEY})"')
IDEMPOTENCY_KEY_HELP = (
    'One key per user action (a UUID, say): 1-255 visible ASCII characters other than " and '
    "\\, bare or in double quotes. A retry with the same key and the same request answers the "
    "same task (202 with the same task_id and a fresh stream_url) and reserves no second draft; "
    "the same key with another request is a 422. Keys are the user's own, and one key names "
    "one request: generate or regenerate, of one campaign or draft. An attempt answered 503 "
    "left nothing behind: retried with its key, it is a new attempt."
)


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


async def idempotency_key(
    value: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description=IDEMPOTENCY_KEY_HELP,
            # Documented, and checked below with a message in words.
            json_schema_extra={"pattern": f'^(?:{KEY}|"{KEY}")$', "maxLength": 257},
        ),
    ] = None,
) -> str | None:
    """The key without its quotes, or a 422 naming the header."""
    if value is None:
        return None
    if quoted := QUOTED_KEY.fullmatch(value):
        return quoted.group(1)
    if BARE_KEY.fullmatch(value):
        return value
    raise _invalid(
        "header.Idempotency-Key",
        'must be 1 to 255 visible ASCII characters (no spaces, " or \\), bare or in double quotes',
    )
