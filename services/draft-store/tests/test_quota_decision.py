"""The quota decision (domain.py): which limit applies, and which one is reported first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bcrao_contracts.enums import Plan
from bcrao_draft_store.domain import quota_decision

RESETS = datetime(2025, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("plan", "used"), [(Plan.TRIAL, 9), (Plan.STARTER, 49), (Plan.GROWTH, 10_000)]
)
def test_one_more_unit_fits_below_the_count(plan: Plan, used: int) -> None:
    assert quota_decision(plan, used=used, spend_usd=Decimal("0.5"), resets_at=RESETS) is None


@pytest.mark.parametrize(("plan", "limit"), [(Plan.TRIAL, 10), (Plan.STARTER, 50)])
def test_the_count_refuses_at_the_limit(plan: Plan, limit: int) -> None:
    refusal = quota_decision(plan, used=limit, spend_usd=Decimal(0), resets_at=RESETS)
    assert refusal is not None
    assert refusal.reason == "drafts_per_month"
    assert refusal.details == {
        "used": limit,
        "limit": limit,
        "plan": plan.value,
        "resets_at": "2025-04-01T00:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("plan", "cap"), [(Plan.TRIAL, "5"), (Plan.STARTER, "15"), (Plan.GROWTH, "40")]
)
def test_the_spend_cap_refuses_at_the_cap_not_below(plan: Plan, cap: str) -> None:
    below = quota_decision(
        plan, used=1, spend_usd=Decimal(cap) - Decimal("0.000001"), resets_at=RESETS
    )
    assert below is None
    refusal = quota_decision(plan, used=1, spend_usd=Decimal(cap), resets_at=RESETS)
    assert refusal is not None
    assert refusal.reason == "spend_cap"
    assert (refusal.details["spend_usd"], refusal.details["spend_limit_usd"]) == (
        float(cap),
        float(cap),
    )


def test_the_count_is_reported_when_both_limits_are_reached() -> None:
    refusal = quota_decision(Plan.TRIAL, used=10, spend_usd=Decimal(7), resets_at=RESETS)
    assert refusal is not None
    assert refusal.reason == "drafts_per_month"
    assert "spend_usd" not in refusal.details


def test_growth_has_no_count_limit_in_its_details() -> None:
    refusal = quota_decision(Plan.GROWTH, used=500, spend_usd=Decimal(41), resets_at=RESETS)
    assert refusal is not None
    assert (refusal.reason, refusal.details["limit"]) == ("spend_cap", None)
