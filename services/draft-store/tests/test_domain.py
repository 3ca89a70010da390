"""The pure rules: status machine, plan limits, calendar months, settings validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from bcrao_contracts.enums import DraftStatus as S
from bcrao_draft_store.config import Settings
from bcrao_draft_store.domain import check_transition, next_period_start, next_status, period_start
from bcrao_draft_store.errors import IllegalTransition
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        (S.GENERATED, S.EDITED),
        (S.GENERATED, S.APPROVED),
        (S.GENERATED, S.DISCARDED),
        (S.EDITED, S.APPROVED),
        (S.EDITED, S.DISCARDED),
        (S.APPROVED, S.POSTED),
        (S.APPROVED, S.DISCARDED),
        (S.APPROVED, S.EDITED),
        (S.POSTED, S.POSTED),
    ],
)
def test_allowed_transitions(current: S, requested: S) -> None:
    assert check_transition(current, requested) is requested


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        (S.GENERATED, S.POSTED),
        (S.EDITED, S.POSTED),
        (S.POSTED, S.DISCARDED),
        (S.POSTED, S.EDITED),
        (S.DISCARDED, S.GENERATED),
        (S.DISCARDED, S.APPROVED),
        (S.APPROVED, S.GENERATED),
    ],
)
def test_illegal_transitions_name_both_ends(current: S, requested: S) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, requested)
    assert caught.value.details == {"from": current.value, "to": requested.value}
    assert caught.value.status_code == 409


def test_saving_edits_moves_to_edited_and_a_status_applies_after() -> None:
    assert next_status(S.GENERATED, requested=None, edits_saved=True) is S.EDITED
    assert next_status(S.APPROVED, requested=None, edits_saved=True) is S.EDITED
    assert next_status(S.GENERATED, requested=S.APPROVED, edits_saved=True) is S.APPROVED
    assert next_status(S.APPROVED, requested=None, edits_saved=False) is S.APPROVED


def test_posted_and_discarded_drafts_cannot_be_edited() -> None:
    for final in (S.POSTED, S.DISCARDED):
        with pytest.raises(IllegalTransition):
            next_status(final, requested=None, edits_saved=True)


def test_period_is_the_utc_calendar_month() -> None:
    # 23:30 on Jan 31 at UTC-2 is already February in UTC.
    local = datetime(2025, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert period_start(local) == datetime(2025, 2, 1, tzinfo=UTC)
    assert next_period_start(local) == datetime(2025, 3, 1, tzinfo=UTC)
    assert next_period_start(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == datetime(
        2026, 1, 1, tzinfo=UTC
    )


def test_settings_fail_fast_on_a_short_or_missing_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRAFT_STORE_SERVICE_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="service_token"):
        Settings()  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(service_token="short")  # type: ignore[arg-type]


def test_settings_accept_a_libpq_url() -> None:
    settings = Settings(service_token="x" * 16, database_url="postgresql://u:p@h:1/db")  # type: ignore[arg-type]
    assert settings.database_url == "postgresql+psycopg://u:p@h:1/db"
    assert settings.consumer_group == "draft-store"
    assert settings.port == 8001
