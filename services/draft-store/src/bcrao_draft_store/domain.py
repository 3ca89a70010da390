"""Pure rules of the store: the draft status machine, plan limits and the UTC calendar month."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bcrao_contracts.enums import DraftStatus
from bcrao_rules.drafts import PLAN_LIMITS as PLAN_LIMITS  # re-exported for the quota rules
from bcrao_rules.drafts import TRANSITIONS

from .errors import IllegalTransition

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# The transition table and the plan limits are product rules shown by the UI too: one table in
# bcrao_rules, enforced here.
ALLOWED = TRANSITIONS


def check_transition(current: DraftStatus, requested: DraftStatus) -> DraftStatus:
    """Setting the status a draft already has is a no-op; any other move must be allowed."""
    if requested is current or requested in ALLOWED[current]:
        return requested
    raise IllegalTransition(current.value, requested.value)


def next_status(
    current: DraftStatus, *, requested: DraftStatus | None, edits_saved: bool
) -> DraftStatus:
    """Status after a PATCH: saving edits moves to `edited` first, then any requested status."""
    status = current
    if edits_saved:
        if current is not DraftStatus.EDITED and DraftStatus.EDITED not in ALLOWED[current]:
            raise IllegalTransition(current.value, DraftStatus.EDITED.value)
        status = DraftStatus.EDITED
    if requested is not None:
        status = check_transition(status, requested)
    return status


def period_start(now: datetime) -> datetime:
    """Start of the UTC calendar month that contains `now`."""
    now = now.astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_period_start(now: datetime) -> datetime:
    start = period_start(now)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)
