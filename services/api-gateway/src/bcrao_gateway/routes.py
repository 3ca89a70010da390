"""The public REST API under /v1 (DOMAIN.md "Public API") and the operational endpoints.

Each router carries its `/v1` prefix itself, so a route's `path` is the full template the access
log reports (an outer prefix would not show in it).
"""

from __future__ import annotations

from fastapi import APIRouter

from bcrao_gateway import (
    routes_campaigns,
    routes_changes,
    routes_drafts,
    routes_generate,
    routes_ops,
    routes_rules,
)

routers: tuple[APIRouter, ...] = (
    routes_campaigns.router,
    routes_changes.router,
    routes_drafts.router,
    routes_generate.router,
    routes_ops.router,
    routes_rules.router,
)
