"""GET /v1/rules: the product rules the web UI explains (gating, ISC tiers, transitions, limits).

The document is `bcrao_rules.catalogue.rules_document()`, built from the same Python rules the
generator and draft-store enforce, so the browser never carries a copy of a threshold. It needs
the caller's bearer token like every other /v1 route (the UI asks for it once it has a token);
the answer is the same for every user and never names one.
"""

from __future__ import annotations

from typing import Any

from bcrao_rules.catalogue import rules_document
from fastapi import APIRouter

from bcrao_gateway.deps import CurrentUser
from bcrao_gateway.openapi import errors

router = APIRouter(prefix="/v1", tags=["rules"], responses=errors(401, 500))


@router.get("/rules")
async def get_rules(_: CurrentUser) -> dict[str, Any]:
    """ISC tiers and gating thresholds, per-account rules, draft transitions, plans, limits and
    score bands, as JSON."""
    return rules_document()
