"""`make soak`: 1,000 generations from 50 users, no fault; zero lost, zero doubled, throughput.

Not part of `make faults` or `make test` (marker `soak`). Prints a table of the checker's figures
and the throughput; the assertion is only on correctness, never on speed.
"""

from __future__ import annotations

import os
import time

import pytest
from bcrao_testkit.load import LoadPlan

from .conftest import RunFactory

pytestmark = [pytest.mark.soak, pytest.mark.e2e, pytest.mark.integration]

GENERATIONS = int(os.environ.get("SOAK_GENERATIONS", "1000"))
USERS = int(os.environ.get("SOAK_USERS", "50"))
RATE = float(os.environ.get("SOAK_RATE", "8"))


@pytest.mark.timeout(3600)
async def test_soak(run_factory: RunFactory) -> None:
    plan = LoadPlan(users=USERS, generations=GENERATIONS, rate=RATE, stream_timeout=1800)
    run = await run_factory(plan, llm_chunk_delay=0.02)
    started = time.time()
    await run.driver.run()
    sent = time.time() - started
    report = await run.verdict(settle=300)
    record = run.driver.record
    done = max(record.completions, default=started) - started
    rows = [
        ("generations sent", GENERATIONS),
        ("users", USERS),
        ("offered rate (POST/s)", RATE),
        ("accepted (202)", report.accepted),
        ("refused or unanswered", GENERATIONS - report.accepted),
        ("completed", report.completed),
        ("failed (gated by design: every 10th)", report.failed),
        ("lost", len(report.lost)),
        ("doubled", report.doubled),
        ("ledger mismatches", len(report.ledger_mismatches)),
        ("stuck", len(report.stuck)),
        ("stream violations", len(report.stream_violations)),
        ("send time (s)", round(sent, 1)),
        ("first POST to last complete (s)", round(done, 1)),
        ("throughput (completed drafts/s)", round(report.completed / done, 2) if done else 0),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n| soak | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    assert report.ok, run.fail_message(report)
    assert report.accepted == GENERATIONS, report.explain()
