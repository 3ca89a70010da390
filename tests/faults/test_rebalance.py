"""Fault 10: the generator group rebalances every few seconds while a second instance starts
and stops under load."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from bcrao_testkit.load import LoadPlan

from .conftest import RunFactory
from .test_process_faults import generating, until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(900),
]


async def test_rebalances_while_a_second_generator_comes_and_goes(run_factory: RunFactory) -> None:
    run = await run_factory(LoadPlan(users=4, generations=90, rate=1.5))
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 1)), run.stack.logs()
    cycles = 0
    while cycles < 4:  # about 15 s each: the load (60 s) outlasts them
        second = run.stack.new_generator()
        run.disrupted()  # joining: partitions move, unfinished work may be handed over
        second.start()
        run.stack.generators.append(second)
        await asyncio.to_thread(second.wait_healthy, 90)
        await asyncio.sleep(4)
        run.disrupted()  # leaving
        await asyncio.to_thread(second.stop, signal.SIGTERM, 60)
        await asyncio.sleep(3)
        cycles += 1
    fault_end = time.time()
    await load
    report = await run.verdict(fault_end=fault_end)
    print(f"\nrebalance cycles: {cycles}, justified repeats: {report.justified_repeats}")
    assert report.ok, run.fail_message(report)
