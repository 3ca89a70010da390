"""Bodies of the internal API that the public API has no counterpart for."""

from __future__ import annotations

from typing import Annotated

from bcrao_contracts.base import Contract
from bcrao_contracts.enums import Plan
from pydantic import Field


class TaskRelease(Contract):
    """Why the gateway gives a queued task back (e.g. its GenerateRequested could not be sent)."""

    code: Annotated[str, Field(min_length=1, max_length=50)] = "UNAVAILABLE"
    message: Annotated[str, Field(max_length=1000)] = ""


class PlanChange(Contract):
    plan: Plan
