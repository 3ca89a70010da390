"""Fault 10: the generator group rebalances every few seconds while a second instance starts
and stops under load."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable

import pytest
from bcrao_testkit.kafka_faults import group_members
from bcrao_testkit.load import LoadPlan

from .conftest import RunFactory
from .test_process_faults import AFTER_FAULT, generating, until

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
    group = run.stack.groups["generator"]
    alone = await group_members(run.stack.kafka, group)

    def members_are(count: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return await group_members(run.stack.kafka, group) == count

        return check

    cycles = 0
    while cycles < 4:  # about 15 s each: the load (60 s) outlasts them
        second = run.stack.new_generator()
        # A rebalance is a span, not a moment: its start and the group's settling both count,
        # so work handed over in between may legitimately run again.
        run.disrupted()
        second.start()
        run.stack.generators.append(second)
        await asyncio.to_thread(second.wait_healthy, 90)
        await until(members_are(2 * alone), 60)
        run.disrupted()
        await asyncio.sleep(4)
        run.disrupted()
        await asyncio.to_thread(second.stop, signal.SIGTERM, 60)
        await until(members_are(alone), 60)
        run.disrupted()
        await asyncio.sleep(3)
        cycles += 1
    fault_end = time.time()
    await load
    await run.driver.run(AFTER_FAULT)  # the cycles may have outlasted the load
    report = await run.verdict(fault_end=fault_end)
    print(f"\nrebalance cycles: {cycles}, justified repeats: {report.justified_repeats}")
    assert report.ok, run.fail_message(report)
