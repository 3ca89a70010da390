"""Faults 1, 2, 3 and 9: a service killed (SIGKILL) or stopped (SIGTERM) under load, then back."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from bcrao_testkit.load import LoadPlan

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.integration]


async def until(condition, timeout: float = 60, every: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(every)
    return False


def llm_in_flight(run) -> int:  # type: ignore[no-untyped-def]
    """Requests the fake LLM has received but not finished: generations under way."""
    import httpx

    received = len(httpx.get(f"http://127.0.0.1:{run.stack.llm_port}/_requests").json()["requests"])
    return received - len(run.stack.llm_calls())


@pytest.mark.fault_smoke
async def test_generator_sigkill_mid_generation_then_restart(run_factory) -> None:  # type: ignore[no-untyped-def]
    run = await run_factory(LoadPlan(users=4, generations=24, rate=4))
    load = asyncio.create_task(run.driver.run())

    async def generating() -> bool:
        return llm_in_flight(run) >= 2

    assert await until(generating), run.stack.logs()
    old = run.stack.generators[0]
    old.kill()
    run.disrupted()
    fresh = old.replacement()
    run.stack.generators[0] = fresh
    fresh.start()
    await asyncio.to_thread(fresh.wait_healthy)
    fault_end = time.time()
    await load
    report = await run.verdict(fault_end=fault_end)
    assert report.ok, run.fail_message(report)
