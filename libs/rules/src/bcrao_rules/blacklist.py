"""Blacklist patterns, run by RE2, a linear-time engine.

A user's own regex runs against every draft of their campaign. With a backtracking engine a
pattern such as `(a+)+$` takes time exponential in the length of the text and stalls whoever
shares the process; RE2 guarantees time linear in the text, at the price of refusing the few
constructs it cannot run in linear time (backreferences, lookaround). Patterns are compiled once
when saved, so a pattern RE2 refuses is refused there, with the engine's reason.

Literals are matched case-insensitively on word boundaries. RE2's `\\b` only knows ASCII letters,
so the boundary of a literal is checked here with Python's own idea of a letter ("café" is a
word), after RE2 finds the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import re2
from bcrao_contracts.enums import BlacklistKind

# RE2's own memory budget per compiled program; a pattern that needs more is refused as too big.
MAX_PROGRAM_BYTES = 8 << 20


class PatternError(ValueError):
    """The pattern cannot be run; the message says why, in words a user can act on."""


@dataclass(frozen=True)
class CompiledPattern:
    kind: BlacklistKind
    pattern: str
    _program: re2._Regexp

    def finditer(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of every non-empty match, in order."""
        for match in self._program.finditer(text):
            start, end = match.start(), match.end()
            if start == end:
                continue  # a regex that can match nothing would otherwise "hit" everywhere
            if self.kind is BlacklistKind.LITERAL and not _on_word_boundaries(text, start, end):
                continue
            yield start, end


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    # Only a literal that starts (ends) with a letter or digit needs a boundary there: "$$$" or
    # "?utm_" match wherever they appear.
    left_ok = not text[start].isalnum() or start == 0 or not text[start - 1].isalnum()
    right_ok = not text[end - 1].isalnum() or end == len(text) or not text[end].isalnum()
    return left_ok and right_ok


def _options(kind: BlacklistKind) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the reason is reported to the caller instead of stderr
    options.max_mem = MAX_PROGRAM_BYTES
    if kind is BlacklistKind.LITERAL:
        options.literal = True
        options.case_sensitive = False
    return options


@lru_cache(maxsize=2048)
def compile_pattern(kind: BlacklistKind | str, pattern: str) -> CompiledPattern:
    """Compile a blacklist pattern; PatternError when RE2 cannot run it.

    Cached: the same entries are applied to every draft of a campaign.
    """
    kind = BlacklistKind(kind)
    if not pattern:
        raise PatternError("the pattern is empty")
    try:
        program = re2.compile(pattern, _options(kind))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "unsupported pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"this regular expression cannot be used: {reason} (patterns run on RE2, which has "
            "no backreferences or lookaround, so that every pattern runs in linear time)"
        ) from None
    return CompiledPattern(kind, pattern, program)


def pattern_problem(kind: BlacklistKind | str, pattern: str) -> str | None:
    """The reason a pattern cannot be saved, or None when it can."""
    try:
        compile_pattern(kind, pattern)
    except PatternError as exc:
        return str(exc)
    return None
