"""Fixtures of the compatibility matrix: the release checkouts (one git worktree per recorded
commit under .state/releases/, built once and reused), and the matrix printed at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bcrao_testkit import releases
from bcrao_testkit.compat import CellResult, table

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".state" / "compat"
MATRIX = Path(os.environ.get("BCRAO_COMPAT_MATRIX", STATE / "matrix.md"))

_results: list[CellResult] = []


@pytest.fixture(scope="session")
def checkouts() -> dict[str, releases.Checkout]:
    """Each service's last release, checked out with its own environment."""
    return {service: releases.release_checkout(service) for service in releases.SERVICES}


@pytest.fixture(scope="session")
def results() -> list[CellResult]:
    return _results


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _results:
        return
    text = table(_results)
    STATE.mkdir(parents=True, exist_ok=True)
    MATRIX.write_text(text + "\n")
    terminalreporter.section("compatibility matrix")
    for line in text.splitlines():
        terminalreporter.write_line(line)
