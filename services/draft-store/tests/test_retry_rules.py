"""Which database errors are retried (transient) and which dead-letter a message at once."""

from __future__ import annotations

import psycopg
import pytest
from bcrao_draft_store.retry import NEVER_APPLICABLE, is_transient
from psycopg import errors
from sqlalchemy.exc import DBAPIError, OperationalError


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection refused"),
        errors.SerializationFailure("could not serialize access"),
        errors.DeadlockDetected("deadlock detected"),
        errors.AdminShutdown("terminating connection due to administrator command"),
        OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection")),
        ConnectionResetError("reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_outages_and_conflicts_are_transient(error: BaseException) -> None:
    assert is_transient(error)
    assert not isinstance(error, NEVER_APPLICABLE)


@pytest.mark.parametrize(
    "error",
    [
        errors.NumericValueOutOfRange("numeric field overflow"),
        errors.UniqueViolation("duplicate key"),
        errors.ForeignKeyViolation("violates foreign key constraint"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_message_that_breaks_the_schema_is_never_retried(error: BaseException) -> None:
    assert not is_transient(error)
    assert isinstance(error, NEVER_APPLICABLE)


def test_other_errors_are_neither_and_count_attempts() -> None:
    raised = errors.RaiseException("poisoned title")
    wrapped = DBAPIError("INSERT", {}, raised)
    for error in (raised, wrapped, KeyError("bug")):
        assert not is_transient(error)
        assert not isinstance(error, NEVER_APPLICABLE)
