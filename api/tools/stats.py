"""`make stats`: what each query file has cost the database, from pg_stat_statements.

    python -m api.tools.stats

One line per query file (sql/), costliest first: calls, total and mean time, rows, and shared
buffer blocks hit (in memory) and read (from the operating system), summed over every
statement that carries the file's name (`SELECT /* posts/list */`); the files not called since the
statistics were last reset (`SELECT pg_stat_statements_reset();`) are named after the table.

PostgreSQL collects these only where the server loads the extension at start: the embedded
server does (api/tools/database.py); on your own server a DBA adds to postgresql.conf

    shared_preload_libraries = 'pg_stat_statements'

and restarts it. This tool then creates the extension in the database (CREATE EXTENSION needs
a superuser, or a DBA runs sql/stats/enable.sql once). PostgreSQL counts two files whose
statements differ only in their comment as one statement, under the first name it saw.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg
from pydantic import BaseModel, SecretStr

from api.config import Settings
from api.data.db import Database, Session
from api.data.registry import queries
from api.tools import migrate
from api.tools.database import development_database

ENABLE = queries.nothing("stats/enable")

PRELOAD_LINE = "shared_preload_libraries = 'pg_stat_statements'"


class QueryFileCost(BaseModel):
    query_file: str
    calls: int
    total_ms: float
    mean_ms: float
    rows_returned: int
    shared_blks_hit: int
    shared_blks_read: int


BY_QUERY_FILE = queries.many("stats/by_query_file", QueryFileCost)

COLUMNS = ("query file", "calls", "total ms", "mean ms", "rows", "blocks hit", "blocks read")


class StatsUnavailable(Exception):
    """pg_stat_statements cannot be read here; the message says what a DBA must do."""


async def enable(session: Session) -> None:
    try:
        await session.run(ENABLE)
    except asyncpg.InsufficientPrivilegeError:
        raise StatsUnavailable(
            "pg_stat_statements is not installed in this database, and only a superuser may: "
            "ask a DBA to run sql/stats/enable.sql in it"
        ) from None


async def by_query_file(session: Session) -> list[QueryFileCost]:
    try:
        return await session.run(BY_QUERY_FILE)
    except asyncpg.ObjectNotInPrerequisiteStateError:  # the extension is there, the library not loaded
        raise StatsUnavailable(
            f"the server does not load pg_stat_statements: add `{PRELOAD_LINE}` to its postgresql.conf and restart it"
        ) from None


def table(costs: list[QueryFileCost]) -> str:
    """The costs as a text table, numbers right-aligned."""
    rows = [COLUMNS] + [
        (
            cost.query_file,
            f"{cost.calls:,}",
            f"{cost.total_ms:,.1f}",
            f"{cost.mean_ms:,.3f}",
            f"{cost.rows_returned:,}",
            f"{cost.shared_blks_hit:,}",
            f"{cost.shared_blks_read:,}",
        )
        for cost in costs
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


async def report(url: str) -> str:
    database = await Database.open(Settings(database_url=SecretStr(url), _env_file=None))
    try:
        session = Session(database)
        await enable(session)
        costs = await by_query_file(session)
    finally:
        await database.close()
    uncalled = sorted(set(queries) - {cost.query_file for cost in costs})
    text = table(costs) if costs else "no statement of the service's query files has run since the last reset"
    return text + (f"\n\nnot called: {', '.join(uncalled)}" if uncalled else "")


def main() -> None:
    with development_database(Settings()) as url:
        migrate.apply(url)
        try:
            print(asyncio.run(report(url)))
        except StatsUnavailable as unavailable:
            sys.exit(f"make stats: {unavailable}")


if __name__ == "__main__":
    main()
