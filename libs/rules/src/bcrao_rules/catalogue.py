# LEAD: replaced by rules-backend's version
"""The product rules as one JSON document, for clients that must not copy Python constants.

Temporary copy on the `ui` branch so the UI can be built and tested against GET /v1/rules before
rules-backend's module lands; the shape is the one agreed with rules-backend.
"""

from __future__ import annotations

from typing import Any


def rules_document() -> dict[str, Any]:  # LEAD: replaced by rules-backend's version
    return {
        "isc": {
            "default": 5.0,
            "min": 1.0,
            "max": 10.0,
            "tiers": [
                {"below": 3.0, "label": "Low"},
                {"below": 5.0, "label": "Moderate"},
                {"below": 7.0, "label": "High"},
                {"below": None, "label": "Very High"},
            ],
            "archetype_block_above": 7.5,
            "blocked_archetypes": ["Journey", "ProblemSolution"],
            "elevated_above": 5.0,
            "promotional_at_or_below": 3.0,
        },
        "archetypes": [
            {"name": "ProblemSolution", "label": "Problem → solution"},
            {"name": "Journey", "label": "Journey"},
            {"name": "Feedback", "label": "Feedback"},
        ],
        "account_statuses": {
            "New": {"allowed_archetypes": ["Feedback"], "links": False, "product_mention": False},
            "WarmingUp": {
                "allowed_archetypes": ["ProblemSolution", "Journey", "Feedback"],
                "links": False,
                "product_mention": "last_paragraph",
            },
            "Established": {
                "allowed_archetypes": ["ProblemSolution", "Journey", "Feedback"],
                "links": True,
                "product_mention": True,
            },
        },
        "draft_transitions": {
            "generated": ["edited", "approved", "discarded"],
            "edited": ["edited", "approved", "discarded"],
            "approved": ["edited", "posted", "discarded"],
            "posted": [],
            "discarded": [],
        },
        "plans": {
            "trial": {"drafts_per_month": 10, "spend_usd_per_month": 5.0},
            "starter": {"drafts_per_month": 50, "spend_usd_per_month": 15.0},
            "growth": {"drafts_per_month": None, "spend_usd_per_month": 40.0},
        },
        "limits": {
            "title_max": 300,
            "body_max": 40000,
            "context_min": 20,
            "context_max": 2000,
            "feedback_max": 1000,
        },
        "score_bands": [
            {"min": 8, "label": "excellent"},
            {"min": 6, "label": "good"},
            {"min": 4, "label": "moderate"},
            {"min": 0, "label": "low"},
        ],
    }
