"""Faults 4 and 5: the broker or the database goes away under load and comes back.

Both run against the suite's private Kafka and PostgreSQL (conftest.py `infra`), never the
shared instances.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from bcrao_testkit.load import LoadPlan

from .conftest import Infra, Run, RunFactory
from .test_process_faults import AFTER_FAULT, generating, until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(900),
]

KAFKA_OUTAGE = 25.0  # seconds: longer than the gateway's 15 s publish timeout, shorter than 30 s
PG_OUTAGE = 10.0


async def kafka_outage(infra: Infra, run: Run, sig: int) -> float:
    """Stops the broker with `sig`, keeps it down KAFKA_OUTAGE s, starts it; returns the end."""
    run.disrupted()
    await asyncio.to_thread(infra.kafka.kill, sig)
    await asyncio.sleep(KAFKA_OUTAGE)
    await asyncio.to_thread(infra.kafka.start)
    run.disrupted()
    return time.time()


@pytest.mark.parametrize(
    "sig",
    [
        pytest.param(signal.SIGKILL, marks=pytest.mark.fault_smoke, id="SIGKILL"),
        pytest.param(signal.SIGTERM, id="SIGTERM"),
    ],
)
async def test_kafka_stopped_under_load(run_factory: RunFactory, infra: Infra, sig: int) -> None:
    # Load before and during the outage (about 50 s of requests at 1.2/s), and after it.
    run = await run_factory(LoadPlan(users=4, generations=60, rate=1.2, stream_timeout=150))
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 1)), run.stack.logs()
    fault_end = await kafka_outage(infra, run, sig)
    await load
    await run.driver.run(AFTER_FAULT)  # a SIGTERMed broker may restart past the first wave
    report = await run.verdict(fault_end=fault_end, settle=120)
    assert report.ok, run.fail_message(report)


async def test_postgres_immediate_stop_under_load(run_factory: RunFactory, infra: Infra) -> None:
    settings = await asyncio.to_thread(infra.postgres.settings)
    assert settings == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    run = await run_factory(LoadPlan(users=4, generations=40, rate=1.5, stream_timeout=150))
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 2)), run.stack.logs()
    run.disrupted()
    await asyncio.to_thread(infra.postgres.stop_immediate)
    await asyncio.sleep(PG_OUTAGE)
    await asyncio.to_thread(infra.postgres.start)
    fault_end = time.time()
    await load
    report = await run.verdict(fault_end=fault_end, settle=120)
    assert report.ok, run.fail_message(report)
