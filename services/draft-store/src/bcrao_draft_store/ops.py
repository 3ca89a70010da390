"""Operations endpoints: liveness, readiness, metrics and the guarded internal API document."""

from __future__ import annotations

import functools
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.errors import envelope
from bcrao_platform.metrics import metrics_endpoint
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .asyncapi import document as asyncapi_document
from .db import MIGRATIONS
from .deps import Runtime, RuntimeDep, require_service

log = logging.getLogger(__name__)
router = APIRouter()


@functools.cache
def service_version() -> str:
    try:
        return version("bcrao-draft-store")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revisions this code expects (read once from the migration scripts, not at import)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision of this code's migration scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(r.revision for r in ScriptDirectory.from_config(config).walk_revisions())


async def database_at_head(runtime: Runtime) -> bool:
    """True at the expected revision, or at a later one this code does not know (a newer
    release migrated it: migrations are expand/contract, so this release still works on it,
    ADR 0007); False when the schema is older or not migrated."""
    async with runtime.engine.connect() as connection:
        if await connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
            return False
        rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
        revisions = frozenset(row[0] for row in rows)
    if revisions == migration_heads():
        return True
    return bool(revisions) and not revisions & known_revisions()


@router.get("/healthz")
async def get_health() -> dict[str, str]:
    """Liveness: the process serves (no dependency is checked)."""
    return {"status": "ok", "version": service_version()}


@router.get("/readyz")
async def get_readiness(runtime: RuntimeDep) -> JSONResponse:
    """Ready when the database answers at the migrated revision and every consumer holds
    partitions, polls and progresses (bcrao_platform.consumers); `consumers` says which not."""
    checks: dict[str, Any] = {"database": False, "migrations": False, "consumer": False}
    try:
        checks["migrations"] = await database_at_head(runtime)
        checks["database"] = True
    except SQLAlchemyError as exc:
        log.warning("readiness: database check failed: %s", str(exc).splitlines()[0][:200])
    checks["consumer"], checks["consumers"] = runtime.consumers.ready()
    if all(value for name, value in checks.items() if name != "consumers"):
        return JSONResponse({"status": "ready", **checks})
    return JSONResponse(envelope(ErrorCode.UNAVAILABLE, "not ready", checks), status_code=503)


def install_ops(app: FastAPI, runtime: Runtime) -> None:
    """/healthz, /readyz, /metrics (bearer token when DRAFT_STORE_METRICS_TOKEN is set) and,
    unless DRAFT_STORE_DOCS_ENABLED is off, /openapi.json, /docs and /asyncapi.json behind the
    service token."""
    app.include_router(router)
    token = runtime.settings.metrics_token
    app.add_route(
        "/metrics",
        metrics_endpoint(
            runtime.metrics.registry,
            token.get_secret_value() if token else None,
            bind_host=runtime.settings.host,
            token_setting="DRAFT_STORE_METRICS_TOKEN",
        ),
        include_in_schema=False,
    )
    if not runtime.settings.docs_enabled:
        return
    guarded = APIRouter(dependencies=[Depends(require_service)], include_in_schema=False)
    events = asyncapi_document(runtime.settings)

    @guarded.get("/asyncapi.json")
    async def get_asyncapi() -> JSONResponse:
        """The event catalogue: the topics draft-store consumes and publishes, with schemas."""
        return JSONResponse(events)

    @guarded.get("/openapi.json")
    async def get_openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @guarded.get("/docs")
    async def get_docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)

    app.include_router(guarded)
