"""Query checks in the manner of sqlc's vet: prepare a bound query on the migrated database
and compare what PostgreSQL says about it with what its header and its model say.

For each query: it prepares; its parameters are as many as the header declares, each of the
declared type; its columns are exactly the model's fields, each of a type the field can
hold. (Nullability is not checked: a prepared statement does not report it. A field with a
default may lack a column: search results carry fields that plain lists do not.)
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from api.data.registry import Returns, Statement
from tests.conftest import test_queries

TYPE_OID = test_queries.value("types/oid", int)

JSON = {"json", "jsonb"}
PG_TYPES: dict[type, set[str]] = {  # looked up in order: bool before int, its base class
    bool: {"bool"},
    int: {"int2", "int4", "int8", "oid"},
    str: {"text", "varchar", "bpchar", "name", "citext"},
    float: {"float4", "float8"},
    Decimal: {"numeric"},
    datetime: {"timestamptz"},  # never a naive timestamp
    date: {"date"},
    UUID: {"uuid"},
    dict: JSON,
    bytes: {"bytea"},
}


def pg_types_for(annotation: typing.Any) -> set[str]:
    """The PostgreSQL type names a value of this Python annotation can come from."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return pg_types_for(args[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(pg_types_for(a) for a in args if a is not type(None)))
    if origin is list:
        return {form.format(name) for name in pg_types_for(args[0]) for form in ("_{}", "{}[]")} | JSON
    if origin is dict:
        return JSON
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return JSON
    for python_type, names in PG_TYPES.items():
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return names
    return set()


def _type_name(annotation: typing.Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


async def vet(connection: asyncpg.Connection, statement: Statement[typing.Any]) -> list[str]:
    """What is wrong with one bound query, one message per problem (none when all is well)."""
    query = statement.query
    where = f"{query.path} (query {query.name})"
    try:
        prepared = await connection.prepare(query.text)
    except asyncpg.PostgresError as error:
        return [f"{where} does not prepare: {error}"]

    problems = []
    parameters = prepared.get_parameters()
    if len(parameters) != len(query.params):
        problems.append(f"{where}: the header declares {len(query.params)} parameters, PostgreSQL {len(parameters)}")
    for declared, actual in zip(query.params, parameters, strict=False):  # a count mismatch is reported above
        if await connection.fetchval(TYPE_OID.query.text, declared.type) != actual.oid:
            problems.append(
                f"{where}: ${declared.position} {declared.name} is declared {declared.type}, "
                f"PostgreSQL infers {actual.name}"
            )

    columns = {attribute.name: attribute.type.name for attribute in prepared.get_attributes()}
    if query.returns in (Returns.ONE, Returns.MANY):
        model = statement.result_type
        fields = model.model_fields
        for name in fields.keys() - columns.keys():
            if fields[name].is_required():  # an optional field may come from another query only
                problems.append(f"{where}: returns no column '{name}' for {model.__name__}.{name}")
        for name in columns.keys() - fields.keys():
            problems.append(f"{where}: returns column '{name}', which {model.__name__} has no field for")
        for name in fields.keys() & columns.keys():
            annotation = fields[name].annotation
            if columns[name] not in pg_types_for(annotation):
                problems.append(
                    f"{where}: column '{name}' is {columns[name]}, but {model.__name__}.{name} "
                    f"is {_type_name(annotation)}"
                )
    elif query.returns is Returns.VALUE:
        if len(columns) != 1:
            problems.append(f"{where}: returns {len(columns)} columns, a value is one")
        elif (pg_type := next(iter(columns.values()))) not in pg_types_for(statement.result_type):
            problems.append(f"{where}: returns {pg_type}, but the code expects {_type_name(statement.result_type)}")
    return problems


async def vet_read_only(connection: asyncpg.Connection, statement: Statement[typing.Any]) -> list[str]:
    """A query marked read-only must run in a read-only transaction (a replica's kind): it is
    run there with every parameter NULL, and rolled back."""
    query = statement.query
    transaction = connection.transaction(readonly=True)
    await transaction.start()
    try:
        await connection.execute(query.text, *[None] * len(query.params))
    except asyncpg.ReadOnlySQLTransactionError as error:
        return [f"{query.path} (query {query.name}) is marked read-only but writes: {error}"]
    except asyncpg.PostgresError:
        pass  # NULL is not a value every query takes; only writing is checked here
    finally:
        await transaction.rollback()
    return []
