"""Fixtures of the fault suite: a private Kafka and PostgreSQL, one fresh deployment per test.

The private broker and cluster run from `.state/faults/<run>` on free ports (deploy/local's own
launchers), so a test may SIGKILL them without touching the shared instances other tests use.
Each test's checker figures are appended to `.state/faults/results.jsonl` and printed as a table
at the end of the run.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bcrao_testkit.chaos import LocalKafka, LocalPostgres, remove_state
from bcrao_testkit.harness import FaultStack
from bcrao_testkit.history import Report, check, recovery_seconds
from bcrao_testkit.load import LoadDriver, LoadPlan, user_token

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".state" / "faults"
RESULTS = Path(os.environ.get("BCRAO_FAULT_RESULTS", STATE / "results.jsonl"))


_session: dict[str, bool] = {}


@dataclass
class Infra:
    kafka: LocalKafka
    postgres: LocalPostgres
    state: Path


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    state = STATE / f"run-{os.getpid()}-{secrets.token_hex(3)}"
    RESULTS.unlink(missing_ok=True)  # the table at the end shows this run's faults only
    _session["faults_ran"] = True
    kafka = LocalKafka(state)
    postgres = LocalPostgres(state)
    try:
        postgres.start()
        kafka.start()
    except Exception as exc:
        remove_state(state)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"private Kafka/PostgreSQL did not start: {exc}", pytrace=False)
        pytest.skip(f"private Kafka/PostgreSQL did not start: {exc}")
    try:
        yield Infra(kafka, postgres, state)
    finally:
        for stop in (kafka.stop, postgres.stop):
            try:
                stop()
            except Exception as exc:  # teardown goes on: the other one must stop too
                print(f"fault infra teardown: {exc}")
        if not os.environ.get("BCRAO_KEEP_FAULT_STATE"):
            remove_state(state)


@dataclass
class Run:
    """One deployment, its load driver, and the moments a second generation became legitimate."""

    stack: FaultStack
    driver: LoadDriver
    disruptions: list[float]
    name: str

    def disrupted(self) -> None:
        self.disruptions.append(time.time())

    async def verdict(self, *, settle: float = 150, fault_end: float | None = None) -> Report:
        await self.driver.drain()
        waited = await self.stack.settle(settle)
        report = check(await self.stack.history(self.driver.record, self.disruptions))
        recovery = (
            recovery_seconds(self.driver.record.completions, fault_end) if fault_end else None
        )
        row = {"fault": self.name, **report.counts(), "settle_s": round(waited, 1)}
        row["recovery_s"] = round(recovery, 1) if recovery is not None else None
        STATE.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as out:
            out.write(json.dumps(row) + "\n")
        print(f"\n{self.name}: {report.explain()}")
        return report

    def fail_message(self, report: Report) -> str:
        return f"{report.explain()}\n{self.stack.logs()}"


RunFactory = Callable[..., Awaitable["Run"]]


@pytest.fixture
async def run_factory(infra: Infra, request: pytest.FixtureRequest) -> AsyncIterator[RunFactory]:
    stacks: list[FaultStack] = []
    drivers: list[LoadDriver] = []

    async def make(
        plan: LoadPlan | None = None,
        *,
        llm_chunk_delay: float = 0.05,
        generator_env: dict[str, str] | None = None,
        pythons: dict[str, str] | None = None,
    ) -> Run:
        stack = FaultStack(
            infra.kafka.bootstrap,
            infra.postgres.url,
            infra.state / "logs" / request.node.name,
            llm_chunk_delay=llm_chunk_delay,
            generator_env=generator_env or {},
            pythons=pythons or {},
        )
        stacks.append(stack)  # stopped at teardown even when it fails to start
        await stack.start()
        secret = stack.s.jwt_secret
        driver = LoadDriver(
            stack.gateway.url,
            lambda user: user_token(secret, user),
            plan or LoadPlan(),
            set_plan=stack.set_plan,
        )
        drivers.append(driver)
        await driver.setup()
        return Run(stack, driver, [], request.node.name)

    yield make
    for driver in drivers:
        await driver.close()
    for stack in stacks:
        stack.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _session.get("faults_ran") or not RESULTS.exists():
        return
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    if not rows:
        return
    columns = ["accepted", "completed", "failed", "lost", "doubled", "ledger_mismatches", "stuck"]
    columns += ["stream_violations", "repeated_generations", "phantoms", "recovery_s"]
    terminalreporter.section("fault history checker")
    terminalreporter.write_line("fault".ljust(48) + " ".join(c[:10].rjust(10) for c in columns))
    for row in rows:
        cells = " ".join(str(row.get(c, "")).rjust(10) for c in columns)
        terminalreporter.write_line(row["fault"][:47].ljust(48) + cells)
