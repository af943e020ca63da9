"""The throwaway servers of tests/clusters.py: they serve, restart, recover from a crash with
their committed rows, replicate to a hot standby, and serve through PgBouncer pooling
transactions."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api.data.registry import Statement
from api.resources.items import routes as items
from api.tools import migrate
from tests.clusters import Cluster, PgBouncer, caught_up, pgbouncer_binary
from tests.conftest import test_queries

IN_RECOVERY = test_queries.value("cluster/in_recovery", bool)
BACKEND_PID = test_queries.value("cluster/backend_pid", int)
CREATE_UNOWNED_ITEM = test_queries.value("items/create_unowned", int)

TIMEOUT = 5.0  # seconds for a connection or a statement
CRASH_RECOVERY = "automatic recovery in progress"  # what PostgreSQL logs when it starts after a crash


@asynccontextmanager
async def connected(url: str, **options: Any) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(url, timeout=TIMEOUT, **options)
    try:
        yield connection
    finally:
        await connection.close(timeout=TIMEOUT)


async def value(url: str, statement: Statement[Any], *args: Any) -> Any:
    """One statement's value, on a connection of its own."""
    async with connected(url) as connection:
        return statement.convert(await connection.fetchval(statement.query.text, *args, timeout=TIMEOUT))


async def count_items(url: str) -> int:
    """The writes a server kept: every item, no filter."""
    return await value(url, items.COUNT, None, None, None)


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[Cluster]:
    with Cluster(tmp_path) as cluster:
        yield cluster


@pytest.fixture
def app_url(primary: Cluster) -> str:
    """A database on the primary with the service's tables, for rows to write and count."""
    url = primary.create_database("app")
    migrate.apply(url)
    return url


async def test_a_new_cluster_is_a_primary_on_a_port_of_its_own(primary):
    assert primary.is_running()
    assert primary.port != 5432  # never the machine's own server
    assert await value(primary.url(), IN_RECOVERY) is False


@pytest.mark.parametrize(("mode", "recovers"), [("fast", False), ("immediate", True)])
async def test_a_restart_keeps_committed_rows(primary, app_url, mode, recovers):
    await value(app_url, CREATE_UNOWNED_ITEM, "kept")

    primary.restart(mode)

    assert primary.is_running()
    assert await count_items(app_url) == 1
    assert (CRASH_RECOVERY in primary.log.read_text()) is recovers


async def test_a_killed_server_is_down_until_started_and_recovers_committed_rows(primary, app_url):
    await value(app_url, CREATE_UNOWNED_ITEM, "kept")

    primary.kill()

    assert not primary.is_running()
    with pytest.raises(OSError):
        await asyncpg.connect(app_url, timeout=TIMEOUT)
    primary.start()
    assert await count_items(app_url) == 1
    assert CRASH_RECOVERY in primary.log.read_text()


async def test_a_replica_replays_what_the_primary_commits(primary, app_url, tmp_path):
    with Cluster.replica_of(primary, tmp_path) as replica:
        assert await count_items(replica.url("app")) == 0

        await value(app_url, CREATE_UNOWNED_ITEM, "replicated")
        await caught_up(primary, replica)

        assert await count_items(replica.url("app")) == 1
        assert await value(replica.url(), IN_RECOVERY) is True
        assert await value(primary.url(), IN_RECOVERY) is False


@pytest.mark.skipif(pgbouncer_binary() is None, reason="pgbouncer is not installed (Debian: apt-get install pgbouncer)")
async def test_pgbouncer_lends_one_server_connection_to_two_clients_a_transaction_at_a_time(primary, tmp_path):
    with PgBouncer(primary, tmp_path, pool_size=1) as bouncer:
        # Session pooling would keep the only server connection for the first client: the
        # second one's statement would time out. Named prepared statements would not survive.
        async with (
            connected(bouncer.url(), statement_cache_size=0) as first,
            connected(bouncer.url(), statement_cache_size=0) as second,
        ):
            first_pid = await first.fetchval(BACKEND_PID.query.text, timeout=TIMEOUT)
            second_pid = await second.fetchval(BACKEND_PID.query.text, timeout=TIMEOUT)
            in_recovery = await second.fetchval(IN_RECOVERY.query.text, timeout=TIMEOUT)

    assert first_pid == second_pid
    assert in_recovery is False
