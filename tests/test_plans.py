"""Plans checked on a seeded dataset: no list, search or count reads posts or items by a
sequential scan, and a page 1,000 by cursor reads what page 1 does.

The dataset is a quarter of the seed's default size (2,500 users, 25,000 posts and items):
in tables as small as the other tests', PostgreSQL rightly prefers sequential scans. At this
size every sample's plan reads every table by the same path as at the default size (the same
nodes, scans and indexes; only which side of the hash join of a page's 30 tags is built
differs), and seeding takes a quarter of the time. Page 1,000 (20,000 rows in) still lies
inside the data. It is loaded once for this module into a database of its own.
"""

import pytest

import api.main  # noqa: F401  (binds every query the app runs)
from api.config import Settings
from api.data.db import Database
from api.data.registry import Returns, queries
from api.tools import migrate, seed
from api.tools.database import scratch_database
from api.tools.explain import PAGE, PAGE_1000, Sizes, explain, rows_read, samples, sequential_scans

SIZES = Sizes(users=seed.DEFAULT_USERS // 4, posts=seed.DEFAULT_POSTS // 4, items=seed.DEFAULT_ITEMS // 4)
SAMPLES = samples(SIZES)
LISTED = [(name, sample) for name, cases in SAMPLES.items() for sample in cases]


@pytest.fixture(scope="module")
async def seeded():
    """A connection of the app's own pool (its codecs and server settings: the plans it gets)."""
    with scratch_database(Settings(), prefix="api_plans") as url:
        migrate.apply(url)
        await seed.seed(url, SIZES.users, SIZES.posts, SIZES.items, log=lambda line: None)
        database = await Database.open(Settings(database_url=url, _env_file=None))
        try:
            async with database.pool.acquire() as connection:
                yield connection
        finally:
            await database.close()


def test_every_list_search_and_count_query_has_samples_to_explain():
    served = {statement.query for statement in queries.bindings}  # what the app's code runs
    listed = {
        query.name
        for query in served
        if query.read_only and (query.returns is Returns.MANY or query.name.split("/")[1].startswith("count"))
    }

    assert len(listed) >= 10
    assert listed - SAMPLES.keys() == set()


@pytest.mark.parametrize(("name", "sample"), LISTED, ids=[f"{n} ({s.label})" for n, s in LISTED])
async def test_no_list_search_or_count_scans_posts_or_items_sequentially(seeded, name, sample):
    plan = await explain(seeded, name, sample)

    assert sequential_scans(plan) & {"posts", "items"} == set()


@pytest.mark.parametrize(("name", "table"), [("posts/list", "posts"), ("items/list", "items")])
async def test_page_1000_by_cursor_reads_what_page_1_reads_and_skip_reads_all_before_it(seeded, name, table):
    first, by_cursor = SAMPLES[name][0], next(s for s in SAMPLES[name] if s.label == "page 1,000")
    by_skip = first.__class__("page 1,000 by skip", (None, PAGE_1000, *first.args[2:]))

    read_first = rows_read(await explain(seeded, name, first), table)
    read_by_cursor = rows_read(await explain(seeded, name, by_cursor), table)
    read_by_skip = rows_read(await explain(seeded, name, by_skip), table)

    assert read_first == read_by_cursor == PAGE + 1
    assert read_by_skip >= PAGE_1000
