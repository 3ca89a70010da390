"""Pure rules of the store: the draft status machine, plan limits and the UTC calendar month."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from bcrao_contracts.enums import DraftStatus, Plan
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


QuotaReason = Literal["drafts_per_month", "spend_cap"]


@dataclass(frozen=True)
class QuotaRefusal:
    """Why a task may not open: the month's draft count or its spend cap. The edge maps the
    reason onto HTTP (403 for the count, 402 for the spend cap)."""

    reason: QuotaReason
    message: str
    details: dict[str, Any]


def quota_decision(
    plan: Plan, *, used: int, spend_usd: Decimal, resets_at: datetime
) -> QuotaRefusal | None:
    """None when one more unit fits this month. The count is checked first: a user out of drafts
    is told so even when the spend cap is also reached (more drafts cost money, so the count is
    what an upgrade changes first)."""
    limits = PLAN_LIMITS[plan]
    details: dict[str, Any] = {
        "used": used,
        "limit": limits.drafts_per_month,
        "plan": plan.value,
        "resets_at": resets_at.isoformat(),
    }
    if limits.drafts_per_month is not None and used >= limits.drafts_per_month:
        return QuotaRefusal(
            "drafts_per_month",
            f"the {plan.value} plan allows {limits.drafts_per_month} drafts a month",
            details,
        )
    if spend_usd >= limits.spend_usd_per_month:
        return QuotaRefusal(
            "spend_cap",
            f"the {plan.value} plan's monthly spend cap (${limits.spend_usd_per_month}) is reached",
            {
                **details,
                "spend_usd": float(spend_usd),
                "spend_limit_usd": float(limits.spend_usd_per_month),
            },
        )
    return None
