"""Faults 1, 2, 3 and 9: a service killed (SIGKILL) or stopped (SIGTERM) under load, then back."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bcrao_testkit.kafka_faults import group_members
from bcrao_testkit.load import LoadPlan
from bcrao_testkit.processes import Service

from .conftest import Run, RunFactory

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(900),
]


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 60) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            async with asyncio.timeout(max(deadline - loop.time(), 0.1)):
                if await condition():
                    return True
        except TimeoutError:
            return False
        await asyncio.sleep(0.1)
    return False


async def llm_in_flight(run: Run) -> int:
    """Requests the fake LLM has received but not finished: generations under way."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{run.stack.llm_port}/_requests")
    return len(answer.json()["requests"]) - len(run.stack.llm_calls())


def generating(run: Run, at_least: int = 2) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await llm_in_flight(run) >= at_least

    return check


def assert_clean_exit(service: Service) -> None:
    """uvicorn shuts down gracefully, then re-raises SIGTERM: -15 is a clean exit, as is 0."""
    assert service.process is not None
    assert service.process.returncode in (0, -signal.SIGTERM), service.tail()
    assert "Application shutdown complete" in service.tail(200), service.tail()


# Kubernetes' default terminationGracePeriodSeconds: SIGTERM, then SIGKILL after this long.
GRACE_SECONDS = 30


async def terminate_like_kubernetes(service: Service) -> None:
    """SIGTERM, and SIGKILL if the process is still there after the grace period (as the kubelet
    does): a service that overstays it is killed, which is not a clean exit."""
    started = time.monotonic()
    await asyncio.to_thread(service.stop, signal.SIGTERM, GRACE_SECONDS)
    print(f"\n{service.name} stopped {time.monotonic() - started:.1f}s after SIGTERM")
    assert_clean_exit(service)


async def restart(old: Service) -> Service:
    fresh = old.replacement()
    fresh.start()
    await asyncio.to_thread(fresh.wait_healthy, 90)
    return fresh


@pytest.mark.fault_smoke
async def test_generator_sigkill_mid_generation_then_restart(run_factory: RunFactory) -> None:
    run = await run_factory(LoadPlan(users=4, generations=24, rate=4))
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run)), run.stack.logs()
    old = run.stack.generators[0]
    await asyncio.to_thread(old.kill)
    run.disrupted()
    run.stack.generators[0] = await restart(old)
    fault_end = time.time()
    await load
    report = await run.verdict(fault_end=fault_end)
    assert report.ok, run.fail_message(report)


async def test_generator_sigkill_second_instance_takes_over(run_factory: RunFactory) -> None:
    run = await run_factory(LoadPlan(users=4, generations=24, rate=4))
    group = run.stack.groups["generator"]
    # One instance may run several group members (one per worker): the second doubles them.
    alone = await group_members(run.stack.kafka, group)
    second = run.stack.new_generator()
    second.start()
    await asyncio.to_thread(second.wait_healthy, 90)
    run.stack.generators.append(second)

    async def both_joined() -> bool:
        return await group_members(run.stack.kafka, group) >= 2 * max(alone, 1)

    # Load only once the group is stable: the joining rebalance is fault 10's subject, not this.
    assert await until(both_joined, 60), run.stack.logs()
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 3)), run.stack.logs()
    await asyncio.to_thread(run.stack.generators[0].kill)
    run.disrupted()
    fault_end = time.time()
    await load
    report = await run.verdict(fault_end=fault_end)
    assert report.ok, run.fail_message(report)


# Requests sent once a fault is over, however long its restarts took: on a busy machine a restart
# can outlast the first wave of load, and a test would then show no work after the fault.
AFTER_FAULT = 12


def drafts_stored(run: Run) -> int:
    return len(run.stack.snapshot()[1])


async def test_draft_store_sigkill_right_after_drafts_commit(run_factory: RunFactory) -> None:
    """Best effort at "between its commit and its offset commit": killed as soon as a new draft
    row is visible, three times under load; the redelivered DraftGenerated must change nothing."""
    # About 40 s of requests: enough to span three kills and restarts.
    run = await run_factory(LoadPlan(users=4, generations=100, rate=2.5))
    load = asyncio.create_task(run.driver.run())
    fault_end = time.time()
    for _ in range(3):
        seen = await asyncio.to_thread(drafts_stored, run)

        async def new_draft(seen: int = seen) -> bool:
            return await asyncio.to_thread(drafts_stored, run) > seen

        assert await until(new_draft, 60), run.stack.logs()
        await asyncio.to_thread(run.stack.draft_store.kill)
        run.stack.s.services["draft-store"] = await restart(run.stack.draft_store)
        fault_end = time.time()
    await load
    await run.driver.run(AFTER_FAULT)  # the restarts may have outlasted the load: work after them
    report = await run.verdict(fault_end=fault_end)
    assert report.ok, run.fail_message(report)


async def test_gateway_sigkill_with_streams_open(run_factory: RunFactory) -> None:
    # About 20 s of requests: some before the kill, some refused while it is down, most after.
    run = await run_factory(LoadPlan(users=4, generations=60, rate=3))
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 3)), run.stack.logs()
    await asyncio.to_thread(run.stack.gateway.kill)
    await asyncio.sleep(2)  # a moment with no gateway: readers retry, requests are refused
    run.stack.s.services["api-gateway"] = await restart(run.stack.gateway)
    fault_end = time.time()
    await load
    report = await run.verdict(fault_end=fault_end)
    assert report.ok, run.fail_message(report)


@pytest.mark.parametrize("name", ["generator", "draft-store", "api-gateway"])
async def test_sigterm_under_load(run_factory: RunFactory, name: str) -> None:
    # About 20 s of requests: the stop and the restart fall inside the load, not after it.
    run = await run_factory(LoadPlan(users=4, generations=60, rate=3))
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 2)), run.stack.logs()
    if name == "generator":
        old = run.stack.generators[0]
        # A graceful stop may hand unfinished work back to the group: a second generation is
        # then legitimate, a second one of a finished task is not (the claim refuses it).
        run.disrupted()
        await terminate_like_kubernetes(old)
        run.stack.generators[0] = await restart(old)
    else:
        old = run.stack.s.services[name]
        await terminate_like_kubernetes(old)
        run.stack.s.services[name] = await restart(old)
    fault_end = time.time()
    await load
    report = await run.verdict(fault_end=fault_end)
    assert report.ok, run.fail_message(report)
