"""Fakes at the edge that several test suites share."""

from __future__ import annotations

from typing import Any


class CapturingPublisher:
    """Records the events a gateway publishes instead of sending them to Kafka.

    `fail = True` makes the next publishes raise `error` (the gateway's PublishError in its
    tests), like a broker outage.
    """

    def __init__(self, error: type[Exception] = ConnectionError) -> None:
        self.events: list[Any] = []
        self.fail = False
        self.ready = True
        self._error = error

    async def publish(self, event: Any) -> None:
        if self.fail:
            raise self._error("simulated broker outage")
        self.events.append(event)
