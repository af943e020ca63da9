"""Migrations: each one undoable, and the whole chain applies, rolls back and applies again."""

import asyncpg
import pytest
from pydantic import BaseModel

from api.config import Settings
from api.tools import migrate
from api.tools.database import scratch_database
from tests.conftest import test_queries


class Table(BaseModel):
    name: str


TABLES = test_queries.many("schema/tables", Table)
MIGRATIONS = sorted(p for p in migrate.MIGRATIONS_DIR.glob("*.sql") if not p.name.endswith(".rollback.sql"))


async def tables(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [t.name for t in TABLES.convert(await connection.fetch(TABLES.query.text))]
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def empty_database_url():
    with scratch_database(Settings(), prefix="api_migrations") as url:
        yield url


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda p: p.stem)
def test_every_migration_has_a_rollback(migration):
    assert migration.with_suffix(".rollback.sql").exists()


async def test_migrations_apply_roll_back_and_apply_again(empty_database_url):
    ids = [m.stem for m in MIGRATIONS]

    assert migrate.apply(empty_database_url) == ids
    applied_tables = await tables(empty_database_url)
    assert {"users", "items"} <= set(applied_tables)

    assert migrate.rollback(empty_database_url, count=len(ids)) == ids[::-1]
    assert await tables(empty_database_url) == []
    assert migrate.applied(empty_database_url) == []

    assert migrate.apply(empty_database_url) == ids
    assert await tables(empty_database_url) == applied_tables
    assert migrate.apply(empty_database_url) == []  # nothing left to do


async def test_rollback_undoes_only_the_last_migration(empty_database_url):
    ids = [m.stem for m in MIGRATIONS]
    migrate.apply(empty_database_url)

    assert migrate.rollback(empty_database_url) == ids[-1:]
    assert migrate.applied(empty_database_url) == ids[:-1]
    migrate.apply(empty_database_url)
