"""The generator's HTTP routes (probes, metrics, AsyncAPI) stay on the event loop, which also runs
every generation: no endpoint or dependency runs on a worker thread."""

from __future__ import annotations

from bcrao_generator.app import create_app
from bcrao_generator.llm import OfflineComposer
from bcrao_testkit.routes import threaded_callables

from .test_handlers import settings


def test_no_route_hands_a_request_to_a_worker_thread() -> None:
    app = create_app(settings("127.0.0.1:1", "t."), llm=OfflineComposer(chunk_delay_ms=0))
    assert threaded_callables(app) == []
