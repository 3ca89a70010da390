"""Issue 24: the broker and the database frozen (SIGSTOP, 20-40 s, then SIGCONT: a GC pause, a
stalled VM, a storage hiccup) under the realistic load (30 users, 6 requests/s, streams open),
each several times with different seeded timing, and a seeded nemesis mixing every infra fault.
The history checker must find 0 lost, 0 doubled, 0 stuck, the ledger exact and every stream
terminal. Each run prints its seed and schedule (`-k` with the seed repeats it).

They run against the suite's private Kafka and PostgreSQL (conftest.py `infra`), never the
shared ones. CPU heavy: `make faults` runs them, `make test` does not.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from bcrao_testkit.chaos import Fault, nemesis
from bcrao_testkit.load import LoadPlan

from .conftest import Infra, Run, RunFactory
from .test_process_faults import AFTER_FAULT, generating, until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(1800),
]

SEEDS = [11, 23, 37, 41, 59]  # five runs of each freeze, each with its own timing
USERS, RATE = 30, 6.0


def realistic(seconds: float) -> LoadPlan:
    """The harness's realistic load for about `seconds` of requests."""
    return LoadPlan(users=USERS, generations=int(RATE * seconds), rate=RATE, stream_timeout=300)


async def apply(infra: Infra, run: Run, fault: Fault) -> float:
    """One fault of the schedule; returns when it ended (the broker or database back)."""
    print(f"  fault {fault.kind} for {fault.length:.1f}s")
    run.disrupted()
    if fault.kind == "kafka-sigstop":
        await asyncio.to_thread(infra.kafka.freeze)
        await asyncio.sleep(fault.length)  # the fault's length, not a synchronisation
        await asyncio.to_thread(infra.kafka.thaw)
    elif fault.kind in ("kafka-sigkill", "kafka-sigterm"):
        sig = signal.SIGKILL if fault.kind == "kafka-sigkill" else signal.SIGTERM
        await asyncio.to_thread(infra.kafka.kill, sig)
        await asyncio.sleep(fault.length)
        await asyncio.to_thread(infra.kafka.start)
    elif fault.kind == "pg-sigstop":
        frozen = await asyncio.to_thread(infra.postgres.freeze)
        await asyncio.sleep(fault.length)
        await asyncio.to_thread(infra.postgres.thaw, frozen)
    elif fault.kind == "pg-immediate":
        await asyncio.to_thread(infra.postgres.stop_immediate)
        await asyncio.sleep(fault.length)
        await asyncio.to_thread(infra.postgres.start)
    else:
        raise ValueError(fault.kind)
    run.disrupted()
    return time.time()


async def under_load(run_factory: RunFactory, infra: Infra, schedule: list[Fault]) -> None:
    span = sum(f.after + f.length for f in schedule) + 15
    run = await run_factory(realistic(span))
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 2)), run.stack.logs()
    fault_end = time.time()
    for fault in schedule:
        await asyncio.sleep(fault.after)  # the schedule's gap
        fault_end = await apply(infra, run, fault)
    await load
    await run.driver.run(AFTER_FAULT)  # work after the last fault, too
    report = await run.verdict(fault_end=fault_end, settle=180)
    assert report.ok, run.fail_message(report)


def frozen(kind: str, seed: int) -> list[Fault]:
    [fault] = nemesis(seed, 1, (kind,))
    print(f"\nseed {seed}: {fault}")
    return [fault]


@pytest.mark.parametrize("seed", SEEDS)
async def test_broker_frozen_under_load(run_factory: RunFactory, infra: Infra, seed: int) -> None:
    await under_load(run_factory, infra, frozen("kafka-sigstop", seed))


@pytest.mark.parametrize("seed", SEEDS)
async def test_broker_sigkilled_under_load(
    run_factory: RunFactory, infra: Infra, seed: int
) -> None:
    await under_load(run_factory, infra, frozen("kafka-sigkill", seed))


@pytest.mark.parametrize("seed", SEEDS)
async def test_database_frozen_under_load(run_factory: RunFactory, infra: Infra, seed: int) -> None:
    await under_load(run_factory, infra, frozen("pg-sigstop", seed))


@pytest.mark.parametrize("seed", [101, 202])
async def test_nemesis(run_factory: RunFactory, infra: Infra, seed: int) -> None:
    """Several faults of any kind over a few minutes; the seed repeats the schedule."""
    schedule = nemesis(seed, 4)
    print(
        f"\nnemesis seed {seed}: "
        + "; ".join(f"{f.kind} {f.length}s after {f.after}s" for f in schedule)
    )
    await under_load(run_factory, infra, schedule)
