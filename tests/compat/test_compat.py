"""The compatibility matrix on the real Kafka and PostgreSQL (`make compat` runs every cell).

For each service, its last release (RELEASES.toml, run from its own worktree and environment)
against the current other two, and the current service against the last releases of the other
two: generations streamed end to end, gated requests that must fail, and the history checker.
`make test` runs one "release" cell per service (draft-store's is test_migrations.py);
`make compat` all six and the migration test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bcrao_testkit import releases
from bcrao_testkit.compat import RELEASE, Cell, CellResult, matrix, run_cell

pytestmark = [pytest.mark.compat, pytest.mark.e2e, pytest.mark.timeout(600)]

LOGS = Path(__file__).resolve().parents[2] / ".state" / "compat" / "logs"


def marks(cell: Cell) -> list[pytest.MarkDecorator]:
    # make test: the gateway's and the generator's release cells here; draft-store's release
    # cell runs there as test_migrations.py (the same cell, on the schema the current code
    # migrated to), so each service has one cell in CI at the cost of three deployments.
    smoke = cell.side == RELEASE and cell.subject != "draft-store"
    return [pytest.mark.compat_smoke] if smoke else []


@pytest.mark.parametrize("cell", [pytest.param(c, id=c.label, marks=marks(c)) for c in matrix()])
async def test_cell(
    cell: Cell,
    kafka_bootstrap: str,
    database_url: str,
    checkouts: dict[str, releases.Checkout],
    results: list[CellResult],
) -> None:
    result = await run_cell(
        cell, kafka=kafka_bootstrap, server_url=database_url, log_dir=LOGS, checkouts=checkouts
    )
    results.append(result)
    report = result.report
    assert result.draft_store_ready, f"draft-store never became ready\n{result.logs}"
    assert report.ok, f"{report.explain()}\n{result.logs}"
    assert report.completed > 0, "no generation completed"
    assert report.failed > 0, "the failure path (a gated request) did not run"
    assert result.streamed > 0, "no stream received text chunks before its draft"
    for service in releases.SERVICES:
        expected = (
            releases.last_release(service).version
            if cell.version_of(service) == RELEASE
            else releases.current_version(service)
        )
        assert result.versions[service] == expected, (service, result.versions)
