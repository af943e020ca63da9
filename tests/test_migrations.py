"""Migrations: each one undoable, and the whole chain applies, rolls back and applies again."""

import asyncpg
import pytest
from pydantic import BaseModel

from api.config import Settings
from api.tools import migrate
from api.tools.database import scratch_database
from tests.conftest import test_queries


class Table(BaseModel):
    table_name: str


class ItemOwner(BaseModel):
    id: int
    name: str
    owner_id: int | None


TABLES = test_queries.many("schema/tables", Table)
CREATE_UNOWNED_ITEM = test_queries.value("items/create_unowned", int)
ITEM_OWNERS = test_queries.many("items/owners", ItemOwner)
MIGRATIONS = sorted(p for p in migrate.MIGRATIONS_DIR.glob("*.sql") if not p.name.endswith(".rollback.sql"))


async def run(url: str, statement, *args):
    """One statement on a connection of its own, outside any app."""
    connection = await asyncpg.connect(url)
    try:
        method = {"many rows": connection.fetch, "a value": connection.fetchval}[statement.query.returns.value]
        return statement.convert(await method(statement.query.text, *args))
    finally:
        await connection.close()


async def tables(url: str) -> list[str]:
    return [t.table_name for t in await run(url, TABLES)]


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


async def test_items_get_owners_without_losing_the_items_already_there(empty_database_url):
    ids = [m.stem for m in MIGRATIONS]
    migrate.rollback(empty_database_url, count=len(ids))
    migrate.apply(empty_database_url, target="0002.posts-and-tokens")
    old = [await run(empty_database_url, CREATE_UNOWNED_ITEM, name) for name in ("Chair", "Table")]

    migrate.apply(empty_database_url)

    assert await run(empty_database_url, ITEM_OWNERS) == [
        ItemOwner(id=old[0], name="Chair", owner_id=None),
        ItemOwner(id=old[1], name="Table", owner_id=None),
    ]
