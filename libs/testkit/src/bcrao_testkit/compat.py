"""The compatibility matrix: each service's last release against the current other two, and the
current service against the last releases of the other two (`make compat`, tests/compat).

A cell is one deployment (`FaultStack`: its own topic prefix, database, consumer groups and fake
LLM) on the real Kafka and PostgreSQL, with the services of the cell's "release" column run from
the release's worktree (`releases.checkout`, its own locked environment and source) and the rest
from this checkout. Load goes through the public API: generations streamed to the end over SSE,
gated requests that must fail (the failure path), deleted drafts; then the history checker
(0 lost, 0 doubled, ledger exact, streams whole).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .harness import FaultStack
from .history import Report, check
from .load import LoadDriver, LoadPlan, user_token
from .releases import SERVICES, Checkout
from .waits import NeverHappened, eventually

CURRENT, RELEASE = "current", "release"


@dataclass(frozen=True)
class Cell:
    """Which side each service runs: `subject` on `side`, the other two on the other side."""

    subject: str
    side: str  # RELEASE: the subject's last release with the current others; CURRENT: the reverse

    def version_of(self, service: str) -> str:
        if service == self.subject:
            return self.side
        return CURRENT if self.side == RELEASE else RELEASE

    @property
    def label(self) -> str:
        return f"{self.subject}-{self.side}"

    def pythons(self, checkouts: dict[str, Checkout]) -> dict[str, str]:
        return {s: checkouts[s].python for s in SERVICES if self.version_of(s) == RELEASE}


def matrix() -> list[Cell]:
    return [Cell(service, side) for service in SERVICES for side in (RELEASE, CURRENT)]


def small_plan() -> LoadPlan:
    """Small on purpose (one cell is a whole deployment): 8 generations from 2 users, every
    fourth request for a gated pair (it must end in an `error`), every third draft deleted."""
    return LoadPlan(users=2, generations=8, rate=4, delete_every=3, gated_every=4)


@dataclass
class CellResult:
    cell: Cell
    report: Report
    versions: dict[str, str]  # service -> the version its /healthz reported
    commits: dict[str, str]  # service -> the commit its source came from ("current" if here)
    streamed: int  # streams that received at least one text chunk before `complete`
    seconds: float
    draft_store_ready: bool  # /readyz: at the schema revision it accepts, consumers running
    logs: str = field(repr=False, default="")

    @property
    def ok(self) -> bool:
        return (
            self.report.ok
            and self.report.completed > 0
            and self.streamed > 0
            and self.draft_store_ready
        )


async def run_cell(
    cell: Cell,
    *,
    kafka: str,
    server_url: str,
    log_dir: Path,
    checkouts: dict[str, Checkout],
    plan: LoadPlan | None = None,
    draft_store_env: dict[str, str] | None = None,
    prepare: Callable[[str], None] | None = None,
) -> CellResult:
    started = time.monotonic()
    stack = FaultStack(
        kafka,
        server_url,
        log_dir / cell.label,
        pythons=cell.pythons(checkouts),
        draft_store_env=draft_store_env or {},
        prepare=prepare,
    )
    driver: LoadDriver | None = None
    try:
        await stack.start()
        secret = stack.s.jwt_secret
        driver = LoadDriver(
            stack.gateway.url,
            lambda user: user_token(secret, user),
            plan or small_plan(),
            set_plan=stack.set_plan,
        )
        ready = await _ready(stack.draft_store.url)
        await driver.setup()
        await driver.run()
        await driver.drain()
        await stack.settle(120)
        report = check(await stack.history(driver.record, []))
        services = {**stack.s.services, "generator": stack.generators[0]}
        versions = {name: await asyncio.to_thread(services[name].version) for name in SERVICES}
        streamed = sum(
            1
            for log in driver.record.streams
            if any(m.type == "chunk" for m in log.messages)
            and any(m.type == "complete" for m in log.messages)
        )
        commits = {
            s: checkouts[s].commit if cell.version_of(s) == RELEASE else CURRENT for s in SERVICES
        }
        return CellResult(
            cell,
            report,
            versions,
            commits,
            streamed,
            time.monotonic() - started,
            ready,
            stack.logs(),
        )
    finally:
        if driver is not None:
            await driver.close()
        await asyncio.to_thread(stack.stop)


async def _ready(url: str) -> bool:
    """draft-store's /readyz answers 200: it accepts the schema's revision, its consumers run.

    False as soon as its answer is final: the database answers and the consumers run, but the
    release refuses the schema's revision (0.2.0 demanded its own head). That does not change by
    waiting, and the hang guard's minute would be spent for nothing."""
    async with httpx.AsyncClient(timeout=2) as client:
        verdict: list[bool] = []

        async def answers() -> bool:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
                response = await client.get(url + "/readyz")
                if response.status_code == 200:
                    verdict.append(True)
                    return True
                checks = response.json()["error"]["details"]
                if checks.get("migrations") is False and all(
                    value is True for name, value in checks.items() if name != "migrations"
                ):
                    verdict.append(False)
                    return True
            return False

        try:
            await eventually(answers, "draft-store ready", hang_guard=60, every=0.2)
        except NeverHappened:
            return False
    return verdict[-1]


def table(results: list[CellResult]) -> str:
    """The matrix as a Markdown table."""
    head = ["cell", *SERVICES, "accepted", "completed", "failed", "streamed"]
    head += ["lost", "doubled", "ledger", "stream viol.", "ok", "s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        counts = r.report.counts()
        sides = [
            f"{r.cell.version_of(s)} {r.versions.get(s, '?')}"
            + (f" ({r.commits[s][:7]})" if r.commits.get(s, CURRENT) != CURRENT else "")
            for s in SERVICES
        ]
        row = [r.cell.label, *sides]
        row += [str(counts.get(k, "")) for k in ("accepted", "completed", "failed")]
        row += [str(r.streamed), str(len(r.report.lost)), str(r.report.doubled)]
        row += [str(len(r.report.ledger_mismatches)), str(len(r.report.stream_violations))]
        row += ["yes" if r.ok else "NO", f"{r.seconds:.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
