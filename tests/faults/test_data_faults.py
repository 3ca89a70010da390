"""Faults 6 and 7: poison records on every topic, and every consumer group rewound to the start."""

from __future__ import annotations

import asyncio
import signal

import pytest
from bcrao_testkit.kafka_faults import (
    dead_lettered,
    dead_letters,
    group_lag,
    inject_poison,
    rewind_group,
)
from bcrao_testkit.load import LoadPlan

from .conftest import Infra, RunFactory
from .test_process_faults import restart, until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(900),
]


@pytest.mark.fault_smoke
async def test_poison_on_every_topic_lands_in_the_dlq_and_work_goes_on(
    run_factory, infra: Infra
) -> None:
    run = await run_factory(LoadPlan(users=3, generations=15, rate=3))
    prefix = run.stack.s.topic_prefix
    placed = await inject_poison(infra.kafka.bootstrap, prefix)
    # The same partitions carry real work right behind the poison: it must not be blocked.
    await run.driver.run()
    report = await run.verdict(settle=90)
    missing = list(placed)

    async def all_dead_lettered() -> bool:
        nonlocal missing
        letters = {
            t: await dead_letters(infra.kafka.bootstrap, t) for t in {p.topic for p in missing}
        }
        missing = [p for p in missing if not dead_lettered(p, letters[p.topic])]
        return not missing

    await until(all_dead_lettered, timeout=60)
    present = {
        t: len(await dead_letters(infra.kafka.bootstrap, t)) for t in {p.topic for p in placed}
    }
    print(f"\nrecords on each DLQ (any headers): {present}")
    listed = ", ".join(f"{p.topic.removeprefix(prefix)}:{p.kind}" for p in missing)
    print(f"\npoison not dead-lettered: {len(missing)} of {len(placed)}: {listed}")
    assert report.ok, run.fail_message(report)
    assert not missing, f"not dead-lettered ({len(missing)} of {len(placed)}): {listed}"


async def test_every_group_rewound_redelivers_nothing_twice(
    run_factory: RunFactory, infra: Infra
) -> None:
    run = await run_factory(LoadPlan(users=3, generations=15, rate=3, delete_every=3))
    await run.driver.run()
    await run.driver.drain()
    await run.stack.settle(90)
    before = await asyncio.to_thread(run.stack.snapshot)
    assert run.driver.record.deleted, "the load deleted no draft: nothing to check for revival"
    generator, store = run.stack.generators[0], run.stack.draft_store
    for service in (generator, store):
        await asyncio.to_thread(service.stop, signal.SIGTERM, 60)
    rewound = {g: await rewind_group(infra.kafka.bootstrap, g) for g in run.stack.groups.values()}
    assert all(rewound.values()), rewound
    # The generator first: its redelivered requests meet an unreachable draft-store, and their
    # claims must wait for it instead of generating finished tasks again (docs/adr/0006).
    run.stack.generators[0] = await restart(generator)
    run.stack.s.services["draft-store"] = await restart(store)

    async def caught_up() -> bool:
        lags = [await group_lag(infra.kafka.bootstrap, g) for g in run.stack.groups.values()]
        return all(lag == 0 for lag in lags)

    assert await until(caught_up, timeout=120), run.stack.logs()
    report = await run.verdict(settle=60)
    after = await asyncio.to_thread(run.stack.snapshot)
    assert report.ok, run.fail_message(report)
    assert sorted(after[1], key=str) == sorted(before[1], key=str), "drafts changed"
    assert sorted(after[2], key=str) == sorted(before[2], key=str), "ledger changed"
