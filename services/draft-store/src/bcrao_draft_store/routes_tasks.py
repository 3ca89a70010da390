"""Internal REST for the generator: claiming a task before its LLM call."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from . import generation_tasks
from .deps import SessionDep

router = APIRouter(prefix="/internal/tasks")


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    attempt_id: UUID  # this delivery of GenerateRequested; kept on the task for diagnosis


class ClaimAnswer(BaseModel):
    status: Literal["running"] = "running"
    claimed: bool = True


@router.post(
    "/{task_id}/claim",
    responses={
        404: {"description": "No such task for this user (never opened, or campaign deleted)"},
        409: {"description": "The task already ended: details.status is completed or failed"},
    },
)
async def claim_task(task_id: UUID, body: ClaimRequest, session: SessionDep) -> ClaimAnswer:
    """queued → running (running again for a redelivery): the generator may call the LLM."""
    await generation_tasks.claim_task(session, body.user_id, task_id, body.attempt_id)
    return ClaimAnswer()
