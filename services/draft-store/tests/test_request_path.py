"""The request path stays on the event loop: no endpoint or dependency runs on a worker thread."""

from __future__ import annotations

from bcrao_testkit.routes import threaded_callables
from fastapi import FastAPI


def test_no_route_hands_a_request_to_a_worker_thread(app: FastAPI) -> None:
    assert threaded_callables(app) == []
