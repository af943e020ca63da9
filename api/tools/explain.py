"""`make explain`: every named query's plan on the seeded dataset, for a DBA to read.

Lists, searches and counts run with sample parameters (below), sized from what the
database holds, through EXPLAIN ANALYZE: real plans, real row counts, real times. "Page
1,000" is 1,000 pages of 20 rows into the data, reached by cursor as a client would. Other
statements (writes, single-row lookups) are planned for a typical value of each parameter
and not run (EXPLAIN without ANALYZE). Each is explained in a transaction that is rolled
back. The tools' own statements (make seed's, sql/seed/, and make stats', sql/stats/) are
named in one line, not explained.

The suite checks the same plans (tests/test_plans.py): no sequential scan of posts or items
for any list, search or count, and a page 1,000 that reads no more rows than page 1.

    python -m api.tools.explain [--query items/list]

The only SQL in this module is the EXPLAIN prefix; the statements are the registry's own.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy
from pydantic import SecretStr

from api.config import Settings
from api.data.db import Database, Session
from api.data.registry import queries
from api.tools import migrate
from api.tools.database import development_database
from api.tools.seed import COUNT_ROWS

Connection = asyncpg.Connection | PoolConnectionProxy  # one of its own, or one of a pool's

PAGE = 20  # rows a page shows; a page asks for one more
PAGE_1000 = 1000 * PAGE

EXPLAIN_RUN = "EXPLAIN (ANALYZE, BUFFERS, FORMAT {format}) "
EXPLAIN_ONLY = "EXPLAIN (FORMAT {format}) "

# A value of each parameter type, for the statements with no sample: they are planned for
# these values, as the service plans every execution for its own (plan_cache_mode =
# force_custom_plan), and not run. Id 1 is in every seeded table. (NULLs would be planned
# away: "One-Time Filter: false" tells a DBA nothing.)
TYPICAL_VALUES: dict[str, Any] = {
    "bigint": 1,
    "boolean": False,
    "bytea": bytes(32),
    "inet": ip_network("192.0.2.7/32"),  # a client, as the sign-in throttle keys it
    "interval": timedelta(minutes=1),
    "jsonb": {"color": "red"},
    "real": 0.5,
    "text": "news",
    "text[]": ["news"],
}
# The tools' statements: make seed's (bulk loads, TRUNCATE, VACUUM: no plan to show) and make
# stats' (CREATE EXTENSION, and a read of pg_stat_statements, which a database may not have).
MAINTENANCE = ("seed/", "stats/")


@dataclass(frozen=True)
class Sizes:
    users: int
    posts: int
    items: int


@dataclass(frozen=True)
class Sample:
    label: str
    args: tuple[Any, ...]
    run: bool = True  # EXPLAIN ANALYZE; else planned only


def typical(name: str) -> Sample:
    """The values a statement with no sample is planned for: one per parameter, by its type."""
    params = queries[name].params
    unknown = sorted({param.type for param in params} - TYPICAL_VALUES.keys())
    if unknown:
        raise KeyError(f"{name}: api/tools/explain.py has no TYPICAL_VALUES for {', '.join(unknown)}")
    return Sample("planned for typical values, not run", tuple(TYPICAL_VALUES[p.type] for p in params), run=False)


def _shown(value: Any) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value) if isinstance(value, timedelta) else repr(value)


def samples(s: Sizes) -> dict[str, list[Sample]]:
    """Parameters for every list, search and count, as clients send them."""
    last_post, last_item, last_user = s.posts + 1, s.items, s.users
    # Words a search would use: in 5% of the seeded posts, and rarer. (A word in most posts,
    # like the seed's commonest, is rightly read by a sequential scan: it filters nothing.)
    word, rare = "wren", "maplefalcon"
    return {
        "items/list": [
            Sample("first page", (None, 0, PAGE + 1, None, None, None)),
            Sample("page 1,000", (min(PAGE_1000, last_item), 0, PAGE + 1, None, None, None)),
            Sample("narrow price range", (None, 0, PAGE + 1, 1000, 1010, None)),
            Sample("a common attribute", (None, 0, PAGE + 1, None, None, {"color": "red"})),
            Sample("a rare attribute", (None, 0, PAGE + 1, None, None, {"edition": "limited"})),
        ],
        "items/count": [
            Sample("all", (None, None, None)),
            Sample("a common attribute", (None, None, {"color": "red"})),
            Sample("a rare attribute", (None, None, {"edition": "limited"})),
        ],
        "users/list": [
            Sample("first page", (None, 0, PAGE + 1)),
            Sample("page 100", (min(100 * PAGE, last_user), 0, PAGE + 1)),
        ],
        "users/count": [Sample("all", ())],
        "posts/list": [
            Sample("first page", (None, 0, PAGE + 1)),
            Sample("page 1,000", (max(last_post - PAGE_1000, 1), 0, PAGE + 1)),
        ],
        "posts/count": [Sample("all", ())],
        "posts/list_by_author": [
            Sample("first page", (1, None, 0, PAGE + 1)),
            Sample("second page", (1, last_post, 0, PAGE + 1)),
        ],
        "posts/count_by_author": [Sample("one author", (1,))],
        "posts/list_by_tag": [
            Sample("first page", ("news", None, 0, PAGE + 1)),
            Sample("page 100", ("news", max(last_post - 100 * PAGE * 10, 1), 0, PAGE + 1)),
        ],
        "posts/count_by_tag": [Sample("one tag", ("news",))],
        "posts/search": [
            Sample("a word in 5% of posts", (word, None, None, 0, PAGE + 1, False, None)),
            Sample("with snippets", (word, None, None, 0, PAGE + 1, True, None)),
            Sample("a rare word", (rare, None, None, 0, PAGE + 1, False, None)),
            Sample("phrase, one tag", (f'"{word} garden"', None, None, 0, PAGE + 1, False, "news")),
        ],
        "posts/count_search": [Sample("a word in 5% of posts", (word, None))],
    }


async def sizes(session: Session) -> Sizes:
    counted = await session.run(COUNT_ROWS)
    assert counted is not None  # one row, always
    return Sizes(users=counted.user_rows, posts=counted.post_rows, items=counted.item_rows)


async def explain(connection: Connection, name: str, sample: Sample | None, format: str = "JSON") -> Any:
    """The plan of one query: for the sample's values, or for typical ones when there is none."""
    sample = sample or typical(name)
    prefix = (EXPLAIN_RUN if sample.run else EXPLAIN_ONLY).format(format=format)
    rows = await connection.fetch(prefix + queries[name].text, *sample.args)
    if format != "JSON":
        return "\n".join(row[0] for row in rows)
    document = rows[0][0]
    return (orjson.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a JSON plan, depth first."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def sequential_scans(plan: dict[str, Any]) -> set[str]:
    return {node["Relation Name"] for node in nodes(plan) if node["Node Type"] == "Seq Scan"}


def rows_read(plan: dict[str, Any], relation: str) -> int:
    """Rows the plan read from a table (or from an index into it), over every loop."""
    return sum(
        node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
        for node in nodes(plan)
        if node.get("Relation Name") == relation and "Scan" in node["Node Type"]
    )


def _header(name: str, sample: Sample) -> str:
    query = queries[name]
    values = [f"${p.position} {p.name} = {_shown(value)}" for p, value in zip(query.params, sample.args, strict=True)]
    shown = f"with {', '.join(values)}\n" if values and not sample.run else ""
    return f"\n== {name} ({sample.label})\n{query.summary}\n{shown}"


async def _explain_and_undo(connection: Connection, name: str, sample: Sample) -> str:
    """The plan, in a transaction rolled back: EXPLAIN ANALYZE runs the statement, and nothing
    a sample runs is kept (the samples are reads today; a write given one stays harmless)."""
    transaction = connection.transaction()
    await transaction.start()
    try:
        return str(await explain(connection, name, sample, format="TEXT"))
    finally:
        await transaction.rollback()


async def _print_plans(url: str, names: list[str], write: Callable[[str], None]) -> list[str]:
    """Write every plan of `names`; returns the queries PostgreSQL could not explain."""
    settings = Settings(database_url=SecretStr(url), _env_file=None)
    database = await Database.open(settings)
    assert database.pool is not None  # open() opened it, or raised
    failed = []
    try:
        by_name = samples(await sizes(Session(database)))
        async with database.pool.acquire() as connection:
            for name in names:
                for sample in by_name.get(name) or [typical(name)]:
                    write(_header(name, sample))
                    try:
                        write(await _explain_and_undo(connection, name, sample))
                    except asyncpg.PostgresError as error:
                        failed.append(name)
                        write(f"could not explain it: {type(error).__name__}: {error}")
    finally:
        await database.close()
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--query", help="only this query, e.g. posts/search")
    args = parser.parse_args()
    if args.query is not None and args.query not in queries:
        parser.error(f"no query is named {args.query!r}")
    chosen = [name for name in sorted(queries) if args.query in (None, name)]
    maintenance = [name for name in chosen if name.startswith(MAINTENANCE)]
    with development_database(Settings()) as url:
        migrate.apply(url)
        failed = asyncio.run(_print_plans(url, [name for name in chosen if name not in maintenance], print))
    if maintenance:
        print(f"\nnot explained: {', '.join(maintenance)} (make seed's and make stats', not the service's)")
    if failed:
        sys.exit(f"\nPostgreSQL could not explain: {', '.join(sorted(set(failed)))}")


if __name__ == "__main__":
    main()
