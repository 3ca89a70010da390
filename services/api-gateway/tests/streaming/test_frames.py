"""Events become typed SSE messages; a restart is its own message type, not a status in prose."""

from __future__ import annotations

import json
from uuid import uuid4

from bcrao_contracts.enums import Stage
from bcrao_contracts.events import ProgressUpdated
from bcrao_gateway.streaming.frames import frame_for


def data_of(frame: bytes) -> dict[str, object]:
    lines = frame.decode().splitlines()
    assert lines[0].startswith("id: ")
    return json.loads(lines[1].removeprefix("data: "))


def progress(**fields: object) -> ProgressUpdated:
    return ProgressUpdated(task_id=uuid4(), producer="generator", seq=3, **fields)  # type: ignore[arg-type]


def test_a_restart_is_a_typed_restart_message() -> None:
    event = progress(kind="status", stage=Stage.GENERATING, message="cut stream", restart=True)
    assert data_of(frame_for(3, event)) == {"type": "restart", "reason": "cut stream"}


def test_a_plain_status_stays_a_status() -> None:
    event = progress(kind="status", stage=Stage.GENERATING, message="Writing the draft")
    assert data_of(frame_for(3, event)) == {
        "type": "status",
        "stage": "generating",
        "message": "Writing the draft",
    }
