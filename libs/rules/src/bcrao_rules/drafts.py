"""The draft status machine and the plans' monthly limits: rules the store enforces and the UI
shows, kept here so both read the same table."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bcrao_contracts.enums import DraftStatus, Plan

# Editing an approved draft sends it back to `edited`: an approval covers the text that was
# approved, so changed text needs approving again. Posted and discarded drafts are final.
TRANSITIONS: dict[DraftStatus, frozenset[DraftStatus]] = {
    DraftStatus.GENERATED: frozenset(
        {DraftStatus.EDITED, DraftStatus.APPROVED, DraftStatus.DISCARDED}
    ),
    DraftStatus.EDITED: frozenset(
        {DraftStatus.EDITED, DraftStatus.APPROVED, DraftStatus.DISCARDED}
    ),
    DraftStatus.APPROVED: frozenset(
        {DraftStatus.EDITED, DraftStatus.POSTED, DraftStatus.DISCARDED}
    ),
    DraftStatus.POSTED: frozenset(),
    DraftStatus.DISCARDED: frozenset(),
}


@dataclass(frozen=True)
class PlanLimits:
    drafts_per_month: int | None  # None = unlimited
    spend_usd_per_month: Decimal


# Usage at or past this share of a monthly limit (drafts, spend) is announced as a warning.
WARN_FRACTION = 0.8


def near_limit(used: float, limit: float | None) -> bool:
    """Whether `used` reached WARN_FRACTION of `limit` (never for an unlimited one)."""
    return limit is not None and limit > 0 and used >= WARN_FRACTION * limit


PLAN_LIMITS: dict[Plan, PlanLimits] = {
    Plan.TRIAL: PlanLimits(10, Decimal("5")),
    Plan.STARTER: PlanLimits(50, Decimal("15")),
    Plan.GROWTH: PlanLimits(None, Decimal("40")),
}
