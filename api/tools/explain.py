"""`make explain`: every named query's plan on the seeded dataset, for a DBA to read.

Lists, searches and counts run with sample parameters (below), sized from what the
database holds, through EXPLAIN ANALYZE: real plans, real row counts, real times. "Page
1,000" is 1,000 pages of 20 rows into the data, reached by cursor as a client would. Other
statements (writes, single-row lookups) are explained without values and not run
(EXPLAIN (GENERIC_PLAN), PostgreSQL 16 and later).

The suite checks the same plans (tests/test_plans.py): no sequential scan of posts or items
for any list, search or count, and a page 1,000 that reads no more rows than page 1.

    python -m api.tools.explain [--query items/list]

The only SQL in this module is the EXPLAIN prefix; the statements are the registry's own.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from api.config import Settings
from api.data.db import Database, Session
from api.data.registry import queries
from api.tools import migrate
from api.tools.database import development_database
from api.tools.seed import COUNT_ROWS

PAGE = 20  # rows a page shows; a page asks for one more
PAGE_1000 = 1000 * PAGE

EXPLAIN_RUN = "EXPLAIN (ANALYZE, BUFFERS, FORMAT {format}) "
EXPLAIN_ONLY = "EXPLAIN (GENERIC_PLAN, FORMAT {format}) "


@dataclass(frozen=True)
class Sizes:
    users: int
    posts: int
    items: int


@dataclass(frozen=True)
class Sample:
    label: str
    args: tuple[Any, ...]


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


async def explain(connection: asyncpg.Connection, name: str, sample: Sample | None, format: str = "JSON") -> Any:
    """The plan of one query: run with the sample's values, or generic when there is none
    (placeholders still need binding over the wire: NULLs, which a generic plan ignores)."""
    query = queries[name]
    prefix = (EXPLAIN_RUN if sample else EXPLAIN_ONLY).format(format=format)
    args = sample.args if sample else (None,) * len(query.params)
    rows = await connection.fetch(prefix + query.text, *args)
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


async def _print_plans(url: str, only: str | None, write: Callable[[str], None]) -> None:
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    database = await Database.open(settings)
    try:
        by_name = samples(await sizes(Session(database)))
        async with database.pool.acquire() as connection:
            for name in sorted(queries):
                if only and name != only:
                    continue
                for sample in by_name.get(name) or [None]:
                    label = sample.label if sample else "generic plan, not run"
                    write(f"\n== {name} ({label})\n{queries[name].summary}\n")
                    write(await explain(connection, name, sample, format="TEXT"))
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--query", help="only this query, e.g. posts/search")
    args = parser.parse_args()
    with development_database(Settings()) as url:
        migrate.apply(url)
        asyncio.run(_print_plans(url, args.query, print))


if __name__ == "__main__":
    main()
