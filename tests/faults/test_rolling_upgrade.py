"""Fault 11: a rolling upgrade (and its rollback) under load.

The deployment starts on one version of every service — the last release (RELEASES.toml, run
from its own worktree and environment) for the upgrade, the current code for the rollback — with
two generators. While generations run, each service's instances are replaced one by one with the
other version, the way a Deployment rolls: draft-store (after its migration, which the current
code ran first), then each generator, then the gateway; each old instance gets SIGTERM and the
new one starts on the same port. The history checker must find 0 lost and 0 doubled, ledger
exact, and every stream whole (the readers reconnect across the gateway's replacement with
Last-Event-ID and carry on).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import httpx
import pytest
from bcrao_testkit import releases
from bcrao_testkit.kafka_faults import group_members
from bcrao_testkit.load import LoadPlan
from bcrao_testkit.processes import Service

from .conftest import RunFactory
from .test_process_faults import AFTER_FAULT, assert_clean_exit, generating, until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(900),
]


async def replace(old: Service, python: str) -> Service:
    """SIGTERM the old instance, then the new version on its port, healthy."""
    await asyncio.to_thread(old.stop, signal.SIGTERM, 60)
    assert_clean_exit(old)
    new = old.replacement(python)
    new.start()
    await asyncio.to_thread(new.wait_healthy, 120)
    return new


@pytest.mark.parametrize("direction", ["upgrade", "rollback"])
async def test_rolling_upgrade_under_load(run_factory: RunFactory, direction: str) -> None:
    pythons = {name: releases.release_checkout(name).python for name in releases.SERVICES}
    if direction == "upgrade":
        start_on, move_to = pythons, dict.fromkeys(releases.SERVICES, sys.executable)
    else:
        start_on, move_to = {}, pythons
    # About 40 s of requests: the five replacements fall inside the load.
    run = await run_factory(LoadPlan(users=4, generations=100, rate=2.5), pythons=start_on)
    stack = run.stack
    second = stack.new_generator()
    second.start()
    await asyncio.to_thread(second.wait_healthy, 120)
    stack.generators.append(second)
    group = stack.groups["generator"]

    async def both_joined() -> bool:
        return await group_members(stack.kafka, group) >= 2

    assert await until(both_joined, 90), stack.logs()
    load = asyncio.create_task(run.driver.run())
    assert await until(generating(run, 2)), stack.logs()

    stack.s.services["draft-store"] = await replace(stack.draft_store, move_to["draft-store"])
    for index in range(len(stack.generators)):
        run.disrupted()  # a graceful stop may hand unfinished work back to the group
        stack.generators[index] = await replace(stack.generators[index], move_to["generator"])
    stack.s.services["api-gateway"] = await replace(stack.gateway, move_to["api-gateway"])
    fault_end = time.time()

    ran_on = {s.name: s.python for s in [*stack.s.services.values(), *stack.generators]}
    assert ran_on == {name: move_to[name] for name in releases.SERVICES}
    async with httpx.AsyncClient() as client:  # every instance answers on the new version
        for service in [*stack.s.services.values(), *stack.generators]:
            answer = await client.get(service.url + "/healthz")
            expected = (
                releases.current_version(service.name)
                if direction == "upgrade"
                else releases.last_release(service.name).version
            )
            assert answer.json()["version"] == expected
    await load
    await run.driver.run(AFTER_FAULT)  # work after the last replacement, on the new version only
    report = await run.verdict(fault_end=fault_end)
    assert report.ok, run.fail_message(report)
    assert report.completed > 0
