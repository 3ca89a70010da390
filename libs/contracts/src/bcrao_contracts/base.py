"""Model bases: producers are strict (unknown fields are errors), consumers are tolerant."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

NUL_FREE = "bcrao.nul_free"  # validation context: the caller already knows there is no NUL


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Contract(BaseModel):
    """Frozen and strict when a producer builds it; `parse` accepts fields of newer producers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any, info: ValidationInfo) -> Any:
        # PostgreSQL text cannot hold U+0000, and no draft, campaign or profile needs it.
        if not (info.context or {}).get(NUL_FREE) and _has_nul(data):
            raise ValueError("text must not contain NUL (U+0000) characters")
        return data

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> Self:
        if isinstance(data, dict):
            return cls.model_validate(data, extra="ignore")
        # JSON can only spell U+0000 as an escape, so a document without the escape's bytes has
        # none, and the walk over every string (once per nested model) is skipped; a document
        # with them (perhaps only an escaped backslash followed by "u0000") takes the walk.
        raw = data.encode() if isinstance(data, str) else data
        context = None if b"\\u0000" in raw else {NUL_FREE: True}
        return cls.model_validate_json(raw, extra="ignore", context=context)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()
