"""Waiting for something to have happened: the one polling helper every test uses.

A test waits for an event (a record consumed, a row written, a client having received a frame),
never for the clock. The hang guard only stops a test that would otherwise wait forever; it is
not a speed requirement (speed is measured in bench/).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

Check = Callable[[], bool] | Callable[[], Awaitable[bool]]


class NeverHappened(AssertionError):
    """The awaited condition did not hold before the hang guard ran out."""


async def _holds(check: Check) -> bool:
    result = check()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


async def eventually(
    check: Check, what: str = "condition", *, hang_guard: float = 30.0, every: float = 0.05
) -> None:
    """Return once `check()` (sync or async) holds; raise NeverHappened(what) on a hang."""
    try:
        async with asyncio.timeout(hang_guard):
            # Polling on purpose: the conditions are other processes' state (a broker, a
            # database, a server), which offer no event this process could wait on.
            while not await _holds(check):  # noqa: ASYNC110
                await asyncio.sleep(every)
    except TimeoutError:
        raise NeverHappened(f"never happened: {what}") from None
