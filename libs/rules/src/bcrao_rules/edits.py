"""The user's edits: checked by the same rules as generated text, and summarised for history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from bcrao_contracts.history import FieldChange
from bcrao_contracts.models import BlacklistEntry, CommunityProfile, EditReport

from . import scoring, validation, verdicts

DIFF_CONTEXT = 20
DIFF_MAX = 240

EditedField = Literal["title", "user_edits"]


def check_edit(
    title: str,
    body: str,
    *,
    blacklist: Sequence[BlacklistEntry],
    profile: CommunityProfile | None,
    checked_at: datetime,
    rules: verdicts.RuleInputs | None = None,
    flair: str | None = None,
) -> EditReport:
    """Validation and scores of the edited text. Nothing is removed from a person's text, so the
    report lists links instead of recording removals. With `rules`, every rule that applies gets
    its verdict (`bcrao_rules.verdicts`), and a failed one marks the edit needs_review."""
    report = validation.validate(title, body, blacklist=blacklist, links_removed=[])
    if rules is not None:
        report = verdicts.with_verdicts(report, verdicts.check_rules(title, body, flair, rules))
    scores = scoring.score(
        body, profile=profile, link_count=report.link_count, findings=report.writing_findings
    )
    return EditReport(title=title, validation=report, scores=scores, checked_at=checked_at)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_diff(before: str, after: str) -> str:
    """The changed region with a little context: `…context[removed → added]context…`."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    limit = min(len(before), len(after)) - start
    while end < limit and before[-1 - end] == after[-1 - end]:
        end += 1
    # Whole words read better: "[who → which client]", not "wh[o → ich client]".
    while start > 0 and not before[start - 1].isspace():
        start -= 1
    while end > 0 and not before[len(before) - end].isspace():
        end -= 1
    removed = before[start : len(before) - end]
    added = after[start : len(after) - end]
    lead = before[max(0, start - DIFF_CONTEXT) : start]
    tail = before[len(before) - end : len(before) - end + DIFF_CONTEXT]
    half = (DIFF_MAX - len(lead) - len(tail)) // 2
    diff = f"{lead}[{_clip(removed, half)} → {_clip(added, half)}]{tail}"
    prefix = "…" if start > DIFF_CONTEXT else ""
    suffix = "…" if end > DIFF_CONTEXT else ""
    return prefix + diff + suffix


def field_changes(changed: dict[EditedField, tuple[str, str]]) -> list[FieldChange]:
    """One entry per field whose text changed (same text saved again: no entry)."""
    return [
        FieldChange(
            field=name,
            before_length=len(before),
            after_length=len(after),
            diff=short_diff(before, after),
        )
        for name, (before, after) in changed.items()
        if before != after
    ]
