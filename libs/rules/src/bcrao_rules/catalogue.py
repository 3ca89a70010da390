"""The product rules as one JSON document, for clients that show them (the web UI).

Everything here is read from the constants the services enforce, so the UI never keeps copies
of thresholds, transitions or limits that could drift from the Python rules.
"""

from __future__ import annotations

from typing import Any

from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.models import BODY_MAX, CONTEXT_MAX, FEEDBACK_MAX, ISC_TIERS, TITLE_MAX

from . import gating
from .context import CONTEXT_MIN
from .drafts import PLAN_LIMITS, TRANSITIONS, WARN_FRACTION
from .scoring import SCORE_BANDS

ISC_MIN = 1.0
ISC_MAX = 10.0


def _account_rules(status: AccountStatus) -> dict[str, Any]:
    """What each account status may do, read from the gating decision itself."""
    allowed = [
        a.value for a in Archetype if gating.check_gating(a, status, gating.DEFAULT_ISC).allowed
    ]
    decision = gating.check_gating(Archetype.FEEDBACK, status, gating.DEFAULT_ISC)
    mention: str | bool = decision.product_mention
    return {
        "allowed_archetypes": allowed,
        "links": not decision.zero_links,
        # "none" → false; otherwise where the product may appear ("natural" → true: anywhere).
        "product_mention": {"none": False, "natural": True}.get(decision.product_mention, mention),
    }


def rules_document() -> dict[str, Any]:
    return {
        "isc": {
            "default": gating.DEFAULT_ISC,
            "min": ISC_MIN,
            "max": ISC_MAX,
            "tiers": [{"below": below, "label": label} for below, label in ISC_TIERS],
            "archetype_block_above": gating.ISC_BLOCK_THRESHOLD,
            "blocked_archetypes": [
                a.value for a in Archetype if a in gating.ISC_BLOCKED_ARCHETYPES
            ],
            "elevated_above": gating.ISC_ELEVATED,
            "promotional_at_or_below": gating.ISC_PLAIN_PROMO,
        },
        "archetypes": [a.value for a in Archetype],
        "account_statuses": {s.value: _account_rules(s) for s in AccountStatus},
        "draft_transitions": {
            status.value: sorted(t.value for t in targets)
            for status, targets in TRANSITIONS.items()
        },
        "plans": {
            plan.value: {
                "drafts_per_month": limits.drafts_per_month,
                "spend_usd_per_month": float(limits.spend_usd_per_month),
            }
            for plan, limits in PLAN_LIMITS.items()
        },
        "usage_warning_fraction": WARN_FRACTION,
        "limits": {
            "title_max": TITLE_MAX,
            "body_max": BODY_MAX,
            "context_min": CONTEXT_MIN,
            "context_max": CONTEXT_MAX,
            "feedback_max": FEEDBACK_MAX,
        },
        "score_bands": [{"min": low, "label": label} for low, label in SCORE_BANDS],
    }
