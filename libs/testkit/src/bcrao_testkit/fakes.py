"""Fakes at the edge that several test suites share."""

from __future__ import annotations

from typing import Any


class CapturingPublisher:
    """Records the events a gateway publishes instead of sending them to Kafka.

    `fail = True` makes the next publishes raise `error` (the gateway's PublishError in its
    tests), like a broker outage. `payloads` holds the bytes that would have gone to Kafka: the
    relayed payload when one was given, else the event's own serialisation.
    """

    def __init__(self, error: type[Exception] = ConnectionError) -> None:
        self.events: list[Any] = []
        self.payloads: list[bytes] = []
        self.fail = False
        self.ready = True
        self._error = error

    async def publish(self, event: Any, *, payload: bytes | None = None) -> None:
        if self.fail:
            raise self._error("simulated broker outage")
        self.events.append(event)
        self.payloads.append(payload if payload is not None else event.to_json())
