"""Model bases: producers are strict (unknown fields are errors), consumers are tolerant."""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

TEXT_CHECKED = "bcrao.text_checked"  # validation context: `parse` found no unstorable text
_MAYBE_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")

# PostgreSQL text cannot hold U+0000, and a lone surrogate (U+D800-U+DFFF, which JSON's \u escapes
# can carry) is not text at all: it cannot be written as UTF-8. No draft, campaign or profile
# needs either.
_NUL = "\x00"


def _has_lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")  # C speed; only lone surrogates fail (a pair is one code point)
    except UnicodeEncodeError:
        return True
    return False


def storable_json(raw: bytes) -> bool:
    """True when the JSON document `raw` cannot hold unstorable text. JSON can spell U+0000 and a
    lone surrogate only as \\u escapes (its raw bytes must be UTF-8), so a document without such
    an escape is storable throughout and the walk over its strings can be skipped; one with such
    an escape (perhaps only an escaped backslash, or a surrogate pair) takes the walk."""
    return _MAYBE_UNSTORABLE.search(raw) is None


def unstorable_text(value: Any) -> str | None:
    """What makes `value` (or any string inside it) unstorable, or None: the rule every contract
    applies, for the few bodies that are relayed without being parsed into one."""
    if isinstance(value, str):
        if _NUL in value:
            return "text must not contain NUL (U+0000) characters"
        if _has_lone_surrogate(value):
            return "text must be valid Unicode: a lone surrogate (U+D800-U+DFFF) is not a character"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if found := unstorable_text(key) or unstorable_text(item):
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            if found := unstorable_text(item):
                return found
    return None


class Contract(BaseModel):
    """Frozen and strict when a producer builds it; `parse` accepts fields of newer producers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, data: Any, info: ValidationInfo) -> Any:
        if (info.context or {}).get(TEXT_CHECKED):
            return data
        if problem := unstorable_text(data):
            raise ValueError(problem)
        return data

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any], *, text_checked: bool = False) -> Self:
        """`text_checked`: the caller already knows `data` holds no unstorable text."""
        if isinstance(data, dict):
            # One walk over the whole document here; left to the validator, it would run once
            # per nested model, each over its own subtree (depth × size).
            checked = text_checked or unstorable_text(data) is None
            context = {TEXT_CHECKED: True} if checked else None  # else the validator says why
            return cls.model_validate(data, extra="ignore", context=context)
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        context = {TEXT_CHECKED: True} if text_checked or storable_json(raw) else None
        return cls.model_validate_json(raw, extra="ignore", context=context)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()
