"""Process-wide signal handling belongs to each service's `__main__` (and the server runner it
starts): no library module, app factory or lifespan may install a handler.

Two checks: a scan of every package's source for the calls that install handlers, and each
service's lifespan entered for real (Kafka and PostgreSQL) with the SIGTERM/SIGINT/SIGHUP
handlers compared before, during and after.
"""

from __future__ import annotations

import ast
import secrets
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("libs/*/src"), *ROOT.glob("services/*/src")])
# `__main__` owns the process; the gateway's server runner (which `__main__` starts) is uvicorn's
# Server, whose handle_exit it extends. Nothing else may touch process-wide handlers.
RUNNERS = {"__main__.py", "bcrao_gateway/server.py"}
INSTALLING = {"signal", "set_wakeup_fd", "siginterrupt", "pthread_sigmask"}
LOOP_METHODS = {"add_signal_handler", "remove_signal_handler"}
HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def handler_calls(source: str) -> list[int]:
    """Lines that install (or remove) a process-wide signal handler."""
    tree = ast.parse(source)
    modules: set[str] = set()  # names bound to the signal module
    functions: set[str] = set()  # names bound to one of its installing functions
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "signal"}
        elif isinstance(node, ast.ImportFrom) and node.module == "signal":
            functions |= {a.asname or a.name for a in node.names if a.name in INSTALLING}

    def installs(func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in functions
        if not isinstance(func, ast.Attribute):
            return False
        if func.attr in LOOP_METHODS:
            return True
        on_module = isinstance(func.value, ast.Name) and func.value.id in modules
        return func.attr in INSTALLING and on_module

    calls = (node for node in ast.walk(tree) if isinstance(node, ast.Call))
    return sorted(node.lineno for node in calls if installs(node.func))


def test_the_scan_finds_every_way_of_installing_a_handler() -> None:
    source = (
        "import signal\n"
        "import signal as sig\n"
        "from signal import signal as install, set_wakeup_fd\n"
        "signal.signal(signal.SIGTERM, print)\n"
        "sig.siginterrupt(signal.SIGINT, False)\n"
        "install(signal.SIGHUP, print)\n"
        "set_wakeup_fd(-1)\n"
        "loop.add_signal_handler(signal.SIGTERM, print)\n"
        "signal.getsignal(signal.SIGTERM)\n"  # reading is fine
        "os.kill(pid, signal.SIGTERM)\n"  # so is sending
    )
    assert handler_calls(source) == [4, 5, 6, 7, 8]


def _modules() -> Iterator[tuple[str, Path]]:
    for src in SOURCES:
        for path in sorted(src.rglob("*.py")):
            yield path.relative_to(src).as_posix(), path


def test_only_main_installs_signal_handlers() -> None:
    assert len(SOURCES) >= 7, SOURCES  # four libraries, three services
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for name, path in _modules()
        if name not in RUNNERS and not name.endswith("/__main__.py")
        for line in handler_calls(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "signal handlers installed outside __main__: " + ", ".join(found)


# -- each service's lifespan, entered for real -------------------------------------------------

TOKEN = "signals-service-token-" + secrets.token_hex(8)


def _draft_store(kafka: str, prefix: str, database: str) -> Any:
    from bcrao_draft_store.app import create_app
    from bcrao_stacktest.factories import make_settings

    return create_app(
        make_settings(
            database, kafka_bootstrap_servers=kafka, topic_prefix=prefix,
            consumer_group=f"{prefix}draft-store", db_pool_size=2,
        )
    )  # fmt: skip


def _generator(kafka: str, prefix: str, database: str) -> Any:
    from bcrao_generator.app import create_app
    from bcrao_generator.config import Settings
    from bcrao_generator.llm import OfflineComposer

    settings = Settings(
        kafka_bootstrap_servers=kafka, topic_prefix=prefix, group_id=f"{prefix}generator",
        draft_store_url="http://127.0.0.1:1", draft_store_token=SecretStr(TOKEN),
        shutdown_grace_seconds=1,
    )  # fmt: skip
    return create_app(settings, llm=OfflineComposer(chunk_delay_ms=0))


def _gateway(kafka: str, prefix: str, database: str) -> Any:
    from bcrao_gateway.app import create_app
    from bcrao_gateway.config import Settings

    settings = Settings(
        kafka_bootstrap_servers=kafka, topic_prefix=prefix, draft_store_url="http://127.0.0.1:1",
        draft_store_token=SecretStr(TOKEN), jwt_secret=SecretStr("signals-jwt-" + "s" * 40),
    )  # fmt: skip
    return create_app(settings)


SERVICES: dict[str, Callable[[str, str, str], Any]] = {
    "draft-store": _draft_store,
    "generator": _generator,
    "api-gateway": _gateway,
}


@pytest.fixture(scope="module")
def store_database(database_url: str) -> Iterator[str]:
    from bcrao_stacktest.inprocess import draft_store_database

    with draft_store_database(database_url, "bcrao_signals") as url:
        yield url


@asynccontextmanager
async def topics(kafka: str) -> AsyncIterator[str]:
    from bcrao_testkit.topics import create_topics, drop_topics

    prefix = f"sig{secrets.token_hex(4)}."
    await create_topics(kafka, prefix)
    try:
        yield prefix
    finally:
        await drop_topics(kafka, prefix)


def _handlers() -> dict[int, Any]:
    return {sig: signal.getsignal(sig) for sig in HANDLED}


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_a_lifespan_leaves_the_signal_handlers_alone(
    name: str, kafka_bootstrap: str, store_database: str
) -> None:
    before = _handlers()
    async with topics(kafka_bootstrap) as prefix:
        app = SERVICES[name](kafka_bootstrap, prefix, store_database)
        async with app.router.lifespan_context(app):
            during = _handlers()
        after = _handlers()
    assert during == before
    assert after == before
