"""`make seed`: a deterministic dataset in the development database, for benchmarks and demos.

    python -m api.tools.seed [--users 10000] [--posts 100000] [--items 100000]

Rows are made by PostgreSQL itself with `generate_series` (sql/seed/*.sql, one statement per
table), not through the API: a hundred thousand posts load in seconds. Seeding replaces what
is there: the seeded tables, and those hanging off them (tokens, login attempts), are emptied
and their ids restarted, so the same sizes give the same rows with the same ids. Only the
password hash differs from one seeding to the next (argon2 salts it).

Every seeded user signs in with the password SEED_PASSWORD, as `user<n>@example.com` or as
their username `<word>_<n>`; user n has id n. The password is hashed once, here, with the
service's own settings, so a sign-in verifies it exactly as it would a real user's.

A new table gets a statement of its own in sql/seed/ and a line in `seed()`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, SecretStr

from api.config import Settings
from api.data.db import Database, Session
from api.data.registry import queries
from api.security.passwords import Passwords
from api.tools import migrate
from api.tools.database import development_database

SEED_PASSWORD = "seeded-password"  # noqa: S105  (documented: every seeded user's password, for bench clients)

DEFAULT_USERS = 10_000
DEFAULT_POSTS = 100_000
DEFAULT_ITEMS = 100_000

# Seconds one seeding statement may take: a million posts is a minute of work, not a fault.
SEED_COMMAND_TIMEOUT = 3600.0

# The words posts and items are made of, and usernames begin with: common English words, none
# of them a stop word of the `english` text search configuration, so that full-text search
# finds each of them. With every two of them run together they make the seed's vocabulary, in
# which earlier words are drawn more often (see sql/seed/posts.sql and `vocabulary_word`).
WORDS: tuple[str, ...] = tuple(
    [
        "river",
        "garden",
        "window",
        "market",
        "silver",
        "winter",
        "coffee",
        "engine",
        "forest",
        "bridge",
        "candle",
        "harbor",
        "planet",
        "rocket",
        "violin",
        "castle",
        "desert",
        "island",
        "jacket",
        "ladder",
        "marble",
        "meadow",
        "needle",
        "orange",
        "pencil",
        "pepper",
        "puzzle",
        "rabbit",
        "saddle",
        "shadow",
        "signal",
        "spider",
        "summer",
        "tunnel",
        "valley",
        "wallet",
        "anchor",
        "basket",
        "blanket",
        "bottle",
        "butter",
        "camera",
        "carpet",
        "cattle",
        "cheese",
        "circle",
        "cloud",
        "copper",
        "cotton",
        "cradle",
        "dragon",
        "feather",
        "finger",
        "flower",
        "friend",
        "galaxy",
        "ginger",
        "glove",
        "guitar",
        "hammer",
        "helmet",
        "honey",
        "insect",
        "kettle",
        "kitchen",
        "lantern",
        "lemon",
        "magnet",
        "mirror",
        "monkey",
        "mountain",
        "museum",
        "napkin",
        "ocean",
        "orchard",
        "oyster",
        "palace",
        "parrot",
        "pillow",
        "pirate",
        "pocket",
        "potato",
        "prison",
        "pumpkin",
        "quilt",
        "radio",
        "rainbow",
        "ribbon",
        "saddlebag",
        "sailor",
        "salmon",
        "school",
        "scissors",
        "shelter",
        "shovel",
        "silk",
        "sister",
        "socket",
        "spoon",
        "stable",
        "statue",
        "stomach",
        "sugar",
        "sunset",
        "sweater",
        "table",
        "teacher",
        "thunder",
        "ticket",
        "tiger",
        "timber",
        "tomato",
        "tower",
        "tractor",
        "trumpet",
        "turtle",
        "umbrella",
        "village",
        "vinegar",
        "wagon",
        "walnut",
        "whistle",
        "willow",
        "wizard",
        "wolf",
        "yacht",
        "zebra",
        "acorn",
        "almond",
        "apricot",
        "archer",
        "arrow",
        "attic",
        "badge",
        "bakery",
        "balcony",
        "bamboo",
        "banner",
        "barley",
        "barrel",
        "beacon",
        "beetle",
        "bicycle",
        "biscuit",
        "blossom",
        "boulder",
        "bracelet",
        "breeze",
        "brick",
        "bucket",
        "buffalo",
        "cabin",
        "cactus",
        "canal",
        "canyon",
        "captain",
        "cargo",
        "carrot",
        "cathedral",
        "cellar",
        "chapel",
        "cherry",
        "chimney",
        "cinnamon",
        "clover",
        "cobbler",
        "comet",
        "compass",
        "coral",
        "cricket",
        "crystal",
        "cupboard",
        "curtain",
        "dagger",
        "dolphin",
        "donkey",
        "eagle",
        "elephant",
        "emerald",
        "falcon",
        "fern",
        "festival",
        "fiddle",
        "fountain",
        "fox",
        "garlic",
        "glacier",
        "goblet",
        "granite",
        "harvest",
        "hedgehog",
        "heron",
        "horizon",
        "iceberg",
        "ivory",
        "jasmine",
        "jewel",
        "journey",
        "juniper",
        "kayak",
        "kingdom",
        "kitten",
        "lagoon",
        "lavender",
        "library",
        "lighthouse",
        "lizard",
        "lobster",
        "locket",
        "lotus",
        "lumber",
        "mango",
        "maple",
        "meteor",
        "mill",
        "minstrel",
        "mosaic",
        "moth",
        "mustard",
        "nectar",
        "nest",
        "nutmeg",
        "oasis",
        "olive",
        "opal",
        "otter",
        "paddle",
        "panther",
        "parchment",
        "peach",
        "pearl",
        "pebble",
        "pelican",
        "penguin",
        "pine",
        "plume",
        "pottery",
        "quarry",
        "quartz",
        "raven",
        "reef",
        "saffron",
        "sapphire",
        "scarecrow",
        "seashell",
        "sparrow",
        "spruce",
        "squirrel",
        "swan",
        "tapestry",
        "thistle",
        "tulip",
        "turnip",
        "velvet",
        "vineyard",
        "volcano",
        "waterfall",
        "wheat",
        "wren",
    ]
)


def vocabulary_word(rank: int) -> str:
    """The seed's word of this rank, as sql/seed/posts.sql numbers them: ranks 1 to len(WORDS)
    are the words themselves; above, two words run together, the first one varying fastest
    (len(WORDS) * b + a is words a and b, each numbered from 1). For clients that search."""
    count = len(WORDS)
    if not 1 <= rank <= count * (count + 1):
        raise ValueError(f"the vocabulary's ranks run from 1 to {count * (count + 1)}")
    if rank <= count:
        return WORDS[rank - 1]
    second, first = divmod(rank - count - 1, count)
    return WORDS[first] + WORDS[second]


class SeededRows(BaseModel):
    """How many users, posts and items the database holds."""

    user_rows: int
    post_rows: int
    item_rows: int


# The tags posts carry, most used first.
TAGS: tuple[str, ...] = (
    "news", "python", "databases", "postgresql", "web", "api", "security", "performance",
    "testing", "design", "devops", "linux", "networks", "cloud", "data", "tutorial",
    "opinion", "release", "research", "career", "history", "hardware", "music", "travel",
    "food", "books", "games", "science", "sport", "misc",
)  # fmt: skip

TRUNCATE = queries.nothing("seed/truncate")
SEED_TAGS = queries.nothing("seed/tags")
SEED_USERS = queries.nothing("seed/users")
SEED_POSTS = queries.nothing("seed/posts")
SEED_ITEMS = queries.nothing("seed/items")
ANALYZE = queries.nothing("seed/analyze")
COUNT_ROWS = queries.one("seed/counts", SeededRows)


def _seed_settings(url: str) -> Settings:
    """The service's settings, on `url`, with one connection that may run long statements."""
    return Settings(
        database_url=SecretStr(url),
        pool_min_size=1,
        pool_max_size=1,
        command_timeout=SEED_COMMAND_TIMEOUT,
        statement_timeout=0,  # the server's limit is for requests, not for loading a dataset
    )


async def seeded_rows(url: str) -> SeededRows:
    """How many users, posts and items the database at `url` holds (the bench's check)."""
    database = await Database.open(_seed_settings(url))
    try:
        rows = await Session(database).run(COUNT_ROWS)
    finally:
        await database.close()
    assert rows is not None  # one row, always
    return rows


async def _timed(report: list[tuple[str, int, float]], what: str, rows: int, step: Awaitable[object]) -> None:
    started = time.perf_counter()
    await step
    report.append((what, rows, time.perf_counter() - started))


async def seed(url: str, users: int, posts: int, items: int, log: Callable[[str], None] = print) -> SeededRows:
    """Replace the seeded tables' rows at `url` with `users`, `posts` and `items` fresh ones."""
    if users < 1 and (posts or items):
        raise ValueError("posts and items need at least one user to belong to")
    async with Passwords(Settings()).admitted() as hashing:
        password_hash = await hashing.hash(SEED_PASSWORD)
    words = list(WORDS)
    database = await Database.open(_seed_settings(url))
    report: list[tuple[str, int, float]] = []
    try:
        session = Session(database)
        started = time.perf_counter()
        # One transaction: a seeding that fails leaves the old rows as they were.
        async with session.transaction():
            await _timed(report, "truncate", 0, session.run(TRUNCATE))
            await _timed(report, "users", users, session.run(SEED_USERS, users, words, password_hash))
            await _timed(report, "posts", posts, session.run(SEED_POSTS, posts, users, words))
            await _timed(report, "items", items, session.run(SEED_ITEMS, items, users, words))
            await _timed(report, "tags", len(TAGS), session.run(SEED_TAGS, list(TAGS), posts))
        await _timed(report, "vacuum analyze", 0, session.run(ANALYZE))
        total = time.perf_counter() - started
        counted = await session.run(COUNT_ROWS)
    finally:
        await database.close()
    for what, rows, seconds in report:
        log(f"  {what:<15} {rows:>10,} rows  {seconds:7.2f} s" if rows else f"  {what:<15} {'':>15}  {seconds:7.2f} s")
    log(f"  {'total':<15} {'':>15}  {total:7.2f} s")
    assert counted is not None
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help=f"users to make (default {DEFAULT_USERS})")
    parser.add_argument("--posts", type=int, default=DEFAULT_POSTS, help=f"posts to make (default {DEFAULT_POSTS})")
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help=f"items to make (default {DEFAULT_ITEMS})")
    args = parser.parse_args()
    if min(args.users, args.posts, args.items) < 0:
        parser.error("sizes cannot be negative")
    if args.users < 1 and (args.posts or args.items):
        parser.error("posts and items need at least one user (--users 1 or more)")

    with development_database(Settings()) as url:
        applied = migrate.apply(url)
        print(f"migrations applied: {', '.join(applied) or 'none pending'}")
        print(f"seeding {args.users:,} users, {args.posts:,} posts, {args.items:,} items:")
        rows = asyncio.run(seed(url, args.users, args.posts, args.items))
    print(
        f"the database holds {rows.user_rows:,} users, {rows.post_rows:,} posts, {rows.item_rows:,} items; "
        f"every user's password is {SEED_PASSWORD!r} (sign in as user<n>@example.com, n from 1 to {args.users})"
    )


if __name__ == "__main__":
    main()
