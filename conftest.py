"""Session fixtures for the real Kafka broker and PostgreSQL server every integration test uses.

Where they come from, in order: `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` when set;
testcontainers when a Docker engine answers; otherwise the project's own local launcher
(`deploy/local/infra.sh up`).
Under CI=true a missing broker or database fails the run; elsewhere the tests that need it skip.

No test sees the caller's service settings: every `GATEWAY_*`, `GENERATOR_*` and `DRAFT_STORE_*`
variable is taken out of the environment before anything is collected (a developer whose 8001 is
taken exports `DRAFT_STORE_PORT=8501`, and a `.env` may hold an LLM key). A test that wants a
setting passes it, or sets it with `monkeypatch`. `scripts/foreign-env.sh` exports every documented
variable to another value, and CI runs the suite under it.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
# The local launcher's ports (deploy/local honours the same variables).
LOCAL_KAFKA = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '19092')}"
LOCAL_PG = f"127.0.0.1:{os.environ.get('PG_PORT', '15432')}"
LOCAL_DATABASE = f"postgresql://bcrao:bcrao@{LOCAL_PG}/bcrao"


SERVICE_PREFIXES = ("GATEWAY_", "GENERATOR_", "DRAFT_STORE_")


def pytest_configure(config: pytest.Config) -> None:
    """Runs in the controller and in every xdist worker before collection: processes the tests
    start (the e2e stacks, the fault suite's services) inherit the cleaned environment too."""
    for name in [n for n in os.environ if n.startswith(SERVICE_PREFIXES)]:
        del os.environ[name]


def _port_open(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _unavailable(what: str, why: str) -> None:
    message = f"{what} is not available: {why}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


_local_started = False


def _start_local() -> None:
    global _local_started
    if _local_started:
        return
    result = subprocess.run(
        ["bash", str(ROOT / "deploy/local/infra.sh"), "up"], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"deploy/local/infra.sh up failed:\n{result.stdout}\n{result.stderr}")
    _local_started = True


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    if not _port_open(LOCAL_KAFKA) and _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    try:
        if not _port_open(LOCAL_KAFKA):
            _start_local()
    except RuntimeError as exc:
        _unavailable("Kafka", str(exc))
    if not _port_open(LOCAL_KAFKA):
        _unavailable("Kafka", f"nothing answers on {LOCAL_KAFKA}")
    yield LOCAL_KAFKA


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A libpq URL (postgresql://...) of a server where tests may create databases."""
    if url := os.environ.get("DATABASE_URL"):
        yield url.replace("postgresql+psycopg://", "postgresql://")
        return
    if not _port_open(LOCAL_PG) and _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as pg:
            yield pg.get_connection_url()
        return
    try:
        if not _port_open(LOCAL_PG):
            _start_local()
    except RuntimeError as exc:
        _unavailable("PostgreSQL", str(exc))
    if not _port_open(LOCAL_PG):
        _unavailable("PostgreSQL", f"nothing answers on {LOCAL_PG}")
    yield LOCAL_DATABASE


# Fixtures each pytest-xdist worker would build for itself (a private Kafka and PostgreSQL for
# the fault suite, the release checkouts of the compatibility cells, the slow stack of the stream
# tests, the stack on the openai adapter): the tests that use one run on one worker
# (`--dist loadgroup`), so it is built once.
SHARED_ON_ONE_WORKER = ("infra", "checkouts", "slow_stack", "openai_stack")


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups (its hook reads the marks)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whatever needs the broker or the database is an integration test, marked or not; the
    tests sharing an expensive fixture are one xdist group."""
    rank: dict[str, int] = {}
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        if needs & {"kafka_bootstrap", "database_url"}:
            item.add_marker(pytest.mark.integration)
        if shared := next((f for f in SHARED_ON_ONE_WORKER if f in needs), None):
            item.add_marker(pytest.mark.xdist_group(shared))
            rank[item.nodeid] = SHARED_ON_ONE_WORKER.index(shared)
    # The groups are the longest units of work: handed out first, they do not start last and
    # leave one worker running them after the others are done (the order is otherwise kept).
    items.sort(key=lambda item: rank.get(item.nodeid, len(SHARED_ON_ONE_WORKER)))
