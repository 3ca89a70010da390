"""What a FastAPI app's routes cost per request, read from FastAPI's own dependency tree."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts


def _call_is_async(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    method = type(call).__call__  # a callable instance: its class's __call__
    return inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)


def threaded_callables(app: FastAPI) -> list[str]:
    """Every endpoint and dependency FastAPI would run on a worker thread (a plain `def`): a
    thread hand-off per request, which under load costs more than the work itself."""
    found: set[str] = set()
    # iter_route_contexts: the routes as served, with the dependencies of the routers that
    # included them (app.routes holds the included routers themselves).
    for route in iter_route_contexts(app.routes):
        root = getattr(route, "dependant", None)
        if root is None:  # a plain Starlette route (no dependency injection)
            continue
        pending = [root]
        while pending:
            dependant = pending.pop()
            call = dependant.call
            if call is not None and not _call_is_async(call):
                found.add(f"{route.path}: {getattr(call, '__qualname__', repr(call))}")
            pending.extend(dependant.dependencies)
    return sorted(found)
