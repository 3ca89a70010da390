"""The hand-written migrations and the SQLAlchemy models describe the same schema.

Alembic's autogenerate comparison runs against a database migrated to head: any table, column,
type, nullability, index, unique or foreign key that one side has and the other lacks is a diff.
Migrations also go down and up again cleanly.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from bcrao_draft_store.db import downgrade, upgrade
from bcrao_draft_store.models import Base
from bcrao_platform.settings import sqlalchemy_url
from bcrao_testkit.databases import throwaway_database
from sqlalchemy import create_engine

pytestmark = pytest.mark.integration


def schema_diff(url: str) -> list[object]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": False}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_models_match_the_migrated_schema(store_database: str) -> None:
    assert schema_diff(store_database) == []


def test_migrations_go_down_to_base_and_up_again(database_url: str) -> None:
    with throwaway_database(database_url, "bcrao_migrations") as scratch:
        upgrade(scratch)
        downgrade(scratch, "base")
        upgrade(scratch)
        assert schema_diff(scratch) == []
