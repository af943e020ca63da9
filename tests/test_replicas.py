"""Read replicas: read-only queries go to a streaming replica, writes and everything after
them to the primary, and the primary serves the reads while the replica is down."""

import asyncio
import logging

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.config import Settings
from api.data import db as db_module
from api.main import create_app
from api.tools import migrate
from tests.accounts import new_account
from tests.clusters import Cluster, caught_up
from tests.queries import test_queries

IN_RECOVERY = test_queries.value("cluster/in_recovery", bool)


class ServedBy:
    """Which server answered each statement: (query name, server port), from asyncpg's query log."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def __call__(self, record) -> None:
        self.log.append((record.query.removeprefix("/* ").split(" */", 1)[0], record.conn_addr[1]))

    async def during(self, work) -> list[tuple[str, int]]:
        start = len(self.log)
        await work
        await asyncio.sleep(0)  # asyncpg hands records to loggers on the next loop turn
        return self.log[start:]


async def in_recovery(url: str) -> bool:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(IN_RECOVERY.query.text)
    finally:
        await connection.close()


@pytest.fixture
def primary_and_replica(tmp_path):
    with Cluster(tmp_path) as primary:
        url = primary.create_database("app")
        migrate.apply(url)
        with Cluster.replica_of(primary, tmp_path) as replica:
            yield primary, replica, url


async def test_reads_go_to_the_replica_writes_to_the_primary_and_the_primary_covers_an_outage(
    primary_and_replica, monkeypatch, caplog
):
    primary, replica, url = primary_and_replica
    monkeypatch.setattr(db_module, "REPLICA_REST", 0.5)  # the test need not wait five seconds
    served = ServedBy()
    settings = Settings(database_url=url, database_read_url=replica.url("app"), _env_file=None)
    app = create_app(settings, observer=served)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        ann = await new_account(client, "ann")
        wrote = await served.during(client.post("/items/", json={"name": "Lamp", "price": 1}, headers=ann.headers))
        await caught_up(primary, replica)

        listed = await client.get("/items/")
        read = await served.during(client.get("/items/"))
        mine = await served.during(client.get("/users/me", headers=ann.headers))

        await asyncio.to_thread(replica.stop)
        with caplog.at_level(logging.WARNING, logger="api.data.db"):
            during_outage = await client.get("/items/")
        outage = served.log[-1]

        await asyncio.to_thread(replica.start)
        await asyncio.sleep(0.6)  # past the replica's rest
        back = await served.during(client.get("/items/"))

    assert {port for _, port in wrote} == {primary.port}
    assert [item["name"] for item in listed.json()["data"]] == ["Lamp"]
    assert read == [("items/list", replica.port)]
    assert await in_recovery(replica.url("app")) and not await in_recovery(url)
    assert {port for _, port in mine} == {primary.port}  # signed in: read from the primary
    assert during_outage.status_code == 200 and [i["name"] for i in during_outage.json()["data"]] == ["Lamp"]
    assert outage == ("items/list", primary.port)
    assert any("read replica failed" in record.getMessage() for record in caplog.records)
    assert back == [("items/list", replica.port)]
