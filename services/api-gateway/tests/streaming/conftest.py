"""Event factories and SSE parsing shared by the streaming tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from bcrao_contracts.enums import ErrorCode, Stage
from bcrao_contracts.events import DraftStored, GenerationFailed, ProgressUpdated
from bcrao_contracts.models import Draft

EXAMPLES = Path(__file__).resolve().parents[4] / "libs/contracts/examples/v1"


@dataclass
class TaskEvents:
    """Builds one task's events the way the generator and draft-store publish them."""

    task_id: UUID = field(default_factory=uuid4)
    campaign_id: UUID = field(default_factory=uuid4)
    user_id: str = "user-1"

    def status(self, seq: int, stage: Stage = Stage.GENERATING) -> ProgressUpdated:
        return ProgressUpdated(
            task_id=self.task_id,
            producer="test",
            seq=seq,
            kind="status",
            stage=stage,
            message=f"stage {stage.value}",
        )

    def chunk(self, seq: int, content: str | None = None) -> ProgressUpdated:
        return ProgressUpdated(
            task_id=self.task_id,
            producer="test",
            seq=seq,
            kind="chunk",
            content=content or f"chunk-{seq}",
        )

    def draft(self) -> Draft:
        raw = json.loads((EXAMPLES / "DraftStored.json").read_text())["draft"]
        raw |= {"task_id": str(self.task_id), "campaign_id": str(self.campaign_id)}
        raw["user_id"] = self.user_id
        return Draft.parse(raw)

    def stored(self, seq: int) -> DraftStored:
        return DraftStored(task_id=self.task_id, producer="test", seq=seq, draft=self.draft())

    def failed(
        self, seq: int | None, code: ErrorCode = ErrorCode.LLM_UNAVAILABLE
    ) -> GenerationFailed:
        return GenerationFailed(
            task_id=self.task_id,
            producer="test",
            seq=seq,
            user_id=self.user_id,
            campaign_id=self.campaign_id,
            code=code,
            message="the model is unavailable",
            details={"attempts": 3},
        )


@pytest.fixture
def task() -> TaskEvents:
    return TaskEvents()


def parse_frames(raw: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(id, data) of every message in an SSE byte stream; comments and retry hints skipped."""
    out = []
    for block in raw.decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in block.split("\n")
            if line and not line.startswith(":") and ": " in line
        )
        if "data" in fields:
            out.append((int(fields["id"]), json.loads(fields["data"])))
    return out


@pytest.fixture
def frames_of():
    return parse_frames
