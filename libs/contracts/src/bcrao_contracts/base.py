"""Model bases: producers are strict (unknown fields are errors), consumers are tolerant."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Frozen and strict when a producer builds it; `parse` accepts fields of newer producers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> Self:
        if isinstance(data, dict):
            return cls.model_validate(data, extra="ignore")
        return cls.model_validate_json(data, extra="ignore")

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()
