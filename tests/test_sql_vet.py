"""Every query the service binds, prepared against the migrated database and checked against
its header and its model; and proof that a migration drifting from a query is caught."""

import dataclasses

import asyncpg
import pytest

# Imported for the queries they bind: the service's, and its tools'.
import api.main
import api.tools.explain
import api.tools.seed  # noqa: F401
from api.data.registry import queries
from api.tools import stats
from tests.conftest import test_queries
from tests.vet import vet, vet_read_only

PRICE_TO_NUMERIC = test_queries.nothing("drift/price_to_numeric")
RENAME_DESCRIPTION = test_queries.nothing("drift/rename_description")


@pytest.fixture
async def connection(database_url):
    """A connection of its own: schema changes tried here never reach the app's statement caches."""
    connection = await asyncpg.connect(database_url)
    await connection.execute(stats.ENABLE.query.text)  # make stats reads its view (sql/stats/)
    yield connection
    await connection.close()


async def test_every_query_agrees_with_its_header_and_its_model(connection):
    problems = [problem for statement in queries.bindings for problem in await vet(connection, statement)]

    assert problems == []


async def test_every_query_test_helpers_use_agrees_with_its_header(connection):
    problems = [problem for statement in test_queries.bindings for problem in await vet(connection, statement)]

    assert problems == []


async def test_every_query_marked_read_only_writes_nothing(connection):
    read_only = [statement for statement in queries.bindings if statement.query.read_only]
    problems = [problem for statement in read_only for problem in await vet_read_only(connection, statement)]

    assert read_only and problems == []


async def test_the_read_only_check_catches_a_query_that_writes(connection):
    writes = next(statement for statement in queries.bindings if statement.query.name == "items/get_for_update")
    marked = dataclasses.replace(writes, query=dataclasses.replace(writes.query, read_only=True))

    assert "is marked read-only but writes" in (await vet_read_only(connection, marked))[0]


def test_every_query_file_is_used_by_the_code():
    assert set(queries) - {statement.query.name for statement in queries.bindings} == set()


@pytest.mark.parametrize(
    ("drift", "expected"),
    [
        (PRICE_TO_NUMERIC, ": column 'price' is numeric, but ItemPublic.price is int"),
        (RENAME_DESCRIPTION, ' does not prepare: column "description" does not exist'),
    ],
)
async def test_a_migration_drifting_from_a_query_is_named_with_it(connection, drift, expected):
    get_item = next(s for s in queries.bindings if s.query.name == "items/get_by_id")
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(drift.query.text)
        problems = await vet(connection, get_item)
    finally:
        await transaction.rollback()

    assert problems == [f"{get_item.query.path} (query items/get_by_id){expected}"]
