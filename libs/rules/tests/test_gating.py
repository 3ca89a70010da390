"""Gating rules of DOMAIN.md, in their order, one row per branch."""

from __future__ import annotations

import pytest
from bcrao_contracts.enums import AccountStatus, Archetype, ErrorCode
from bcrao_rules.gating import (
    ARCHETYPE_CONSTRAINTS,
    ELEVATED_CONSTRAINT,
    NEW_ACCOUNT_CONSTRAINTS,
    PLAIN_PROMO_CONSTRAINT,
    VERY_HIGH_ISC_CONSTRAINTS,
    WARMING_UP_CONSTRAINTS,
    check_gating,
)

J, PS, FB = Archetype.JOURNEY, Archetype.PROBLEM_SOLUTION, Archetype.FEEDBACK
NEW, WARM, EST = AccountStatus.NEW, AccountStatus.WARMING_UP, AccountStatus.ESTABLISHED


@pytest.mark.parametrize(
    ("archetype", "status", "isc", "code", "constraints"),
    [
        (J, NEW, 5.0, ErrorCode.WARMUP_ARCHETYPE_BLOCKED, NEW_ACCOUNT_CONSTRAINTS),
        (PS, NEW, 5.0, ErrorCode.WARMUP_ARCHETYPE_BLOCKED, NEW_ACCOUNT_CONSTRAINTS),
        (PS, NEW, None, ErrorCode.WARMUP_ARCHETYPE_BLOCKED, NEW_ACCOUNT_CONSTRAINTS),
        # the New rule comes first, even where the ISC rule would also refuse
        (J, NEW, 8.1, ErrorCode.WARMUP_ARCHETYPE_BLOCKED, NEW_ACCOUNT_CONSTRAINTS),
        (J, EST, 7.51, ErrorCode.ISC_ARCHETYPE_BLOCKED, VERY_HIGH_ISC_CONSTRAINTS),
        (PS, EST, 8.1, ErrorCode.ISC_ARCHETYPE_BLOCKED, VERY_HIGH_ISC_CONSTRAINTS),
        (PS, WARM, 10.0, ErrorCode.ISC_ARCHETYPE_BLOCKED, VERY_HIGH_ISC_CONSTRAINTS),
    ],
)
def test_refusals(archetype, status, isc, code, constraints) -> None:
    decision = check_gating(archetype, status, isc)
    assert not decision.allowed
    assert decision.code is code
    assert decision.archetype is archetype
    assert decision.forced_archetype is Archetype.FEEDBACK
    assert decision.constraints == constraints
    assert decision.message
    assert decision.details() == {"forced_archetype": "Feedback", "constraints": list(constraints)}


@pytest.mark.parametrize(
    ("archetype", "status", "isc", "zero_links", "mention", "promo", "expected"),
    [
        # New accounts: Feedback only, as warm-up posts
        (FB, NEW, 5.0, True, "none", "minimal", NEW_ACCOUNT_CONSTRAINTS),
        (FB, NEW, 2.0, True, "none", "minimal", NEW_ACCOUNT_CONSTRAINTS),
        # 7.5 itself passes
        (J, EST, 7.5, False, "natural", "normal", ARCHETYPE_CONSTRAINTS[J]),
        (PS, EST, 7.5, False, "natural", "normal", ARCHETYPE_CONSTRAINTS[PS]),
        # Feedback above 7.5 goes through with the very-high-sensitivity constraints
        (FB, EST, 8.1, True, "natural", "minimal", VERY_HIGH_ISC_CONSTRAINTS),
        (
            FB,
            NEW,
            8.1,
            True,
            "none",
            "minimal",
            NEW_ACCOUNT_CONSTRAINTS + VERY_HIGH_ISC_CONSTRAINTS,
        ),
        # Warming up: every archetype, no links, product only at the end
        (J, WARM, 5.0, True, "last_paragraph", "normal", WARMING_UP_CONSTRAINTS),
        (PS, WARM, 5.0, True, "last_paragraph", "normal", WARMING_UP_CONSTRAINTS),
        (FB, WARM, 5.0, True, "last_paragraph", "normal", WARMING_UP_CONSTRAINTS),
        (FB, WARM, 8.1, True, "last_paragraph", "minimal", WARMING_UP_CONSTRAINTS),
        # Established, no profile: ISC 5.0 default, nothing extra
        (J, EST, None, False, "natural", "normal", ARCHETYPE_CONSTRAINTS[J]),
        (FB, EST, None, False, "natural", "normal", ARCHETYPE_CONSTRAINTS[FB]),
        # ISC <= 3 allows plain promotional language
        (PS, EST, 3.0, False, "natural", "plain", (PLAIN_PROMO_CONSTRAINT,)),
    ],
)
def test_allowed(archetype, status, isc, zero_links, mention, promo, expected) -> None:
    decision = check_gating(archetype, status, isc)
    assert decision.allowed
    assert decision.code is None
    assert decision.message == ""
    assert decision.forced_archetype is None
    assert decision.zero_links is zero_links
    assert decision.product_mention == mention
    assert decision.promotional_language == promo
    for constraint in (*expected, *ARCHETYPE_CONSTRAINTS[archetype]):
        assert constraint in decision.constraints
    assert len(decision.constraints) == len(set(decision.constraints))


@pytest.mark.parametrize("archetype", [J, PS, FB])
def test_archetype_constraints_only_for_the_requested_archetype(archetype) -> None:
    decision = check_gating(archetype, EST, 4.0)
    others = [a for a in ARCHETYPE_CONSTRAINTS if a is not archetype]
    assert decision.constraints == ARCHETYPE_CONSTRAINTS[archetype]
    for other in others:
        assert not set(ARCHETYPE_CONSTRAINTS[other]) & set(decision.constraints)


@pytest.mark.parametrize(
    ("isc", "elevated", "plain"),
    [(None, False, False), (5.0, False, False), (5.01, True, False), (7.5, True, False),
     (3.01, False, False), (3.0, False, True), (1.0, False, True)],
)  # fmt: skip
def test_isc_modifiers(isc, elevated, plain) -> None:
    decision = check_gating(J, EST, isc)
    assert (ELEVATED_CONSTRAINT in decision.constraints) is elevated
    assert (PLAIN_PROMO_CONSTRAINT in decision.constraints) is plain
    assert (decision.promotional_language == "plain") is plain


def test_new_feedback_never_gets_plain_promotion_even_at_low_isc() -> None:
    decision = check_gating(FB, NEW, 1.5)
    assert PLAIN_PROMO_CONSTRAINT not in decision.constraints
    assert decision.product_mention == "none"


def test_shared_bullets_appear_once() -> None:
    decision = check_gating(FB, NEW, 9.0)
    assert decision.constraints.count("zero links") == 1
    assert sum("maximum vulnerability" in c for c in decision.constraints) == 1


def test_allowed_details_name_no_forced_archetype() -> None:
    decision = check_gating(FB, EST, 6.4)
    assert decision.details()["forced_archetype"] is None
    assert decision.details()["constraints"] == list(decision.constraints)
