"""Fault 8: the LLM misbehaves per task (429 with Retry-After, 500 bursts, a cut stream, and a
generation longer than the consumer's poll interval); every task still ends once."""

from __future__ import annotations

import pytest
from bcrao_testkit.load import LoadPlan

from .conftest import RunFactory

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.timeout(900),
]

# Per request (by index): the fake LLM reads the directive from the task's own context.
CHAOS = {0: "chaos=429x2", 1: "chaos=500x4", 2: "chaos=cutx1", 3: "chaos=500x2"}
SLOW = "chaos=slow75"  # 75 s of streaming, beyond the 60 s max poll interval set below


def directive(index: int) -> str:
    if index in (4, 13):
        return SLOW
    return CHAOS.get(index % 6, "")


async def test_llm_429_500_cut_and_a_generation_longer_than_the_poll_interval(
    run_factory: RunFactory,
) -> None:
    run = await run_factory(
        LoadPlan(
            users=3, generations=18, rate=2, chaos=directive, gated_every=0, stream_timeout=200
        ),
        generator_env={"GENERATOR_MAX_POLL_INTERVAL_MS": "60000"},
    )
    await run.driver.run()
    report = await run.verdict(settle=120)
    outcomes = [r.completed for r in run.stack.llm_calls()]
    print(f"\nLLM calls: {len(outcomes)}, finished: {sum(outcomes)}")
    assert report.ok, run.fail_message(report)
    # Every fault above is recoverable by retrying within the generator's own budget.
    assert report.completed == report.accepted, report.explain()
