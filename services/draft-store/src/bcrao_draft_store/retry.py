"""Which database failures are transient (retried with backoff by bcrao_platform.retry, never
counted as a message's fault) and which can never succeed (dead-lettered at once)."""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# Serialization failure, deadlock, lock not available, and the server shutting down or starting.
TRANSIENT_STATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}


def is_transient(exc: BaseException) -> bool:
    """Connection loss, server shutdown, pool exhaustion, serialization failures and deadlocks,
    raised through SQLAlchemy or by psycopg itself (the hot paths use the driver directly)."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError):
        return True
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig or exc
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return sqlstate in TRANSIENT_STATES or sqlstate.startswith("08")


# Errors no retry can fix: the message itself breaks a constraint or a column's type.
NEVER_APPLICABLE = (IntegrityError, DataError, psycopg.IntegrityError, psycopg.DataError)
