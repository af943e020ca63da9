"""Read replicas: read-only queries go to a streaming replica, writes and everything after
them to the primary, and the primary serves the reads while the replica is down."""

import asyncio
import logging
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.config import Settings
from api.data import db as db_module
from api.data.registry import sent_name
from api.main import create_app
from api.tools import migrate
from tests.accounts import new_account
from tests.clusters import Cluster, caught_up
from tests.inventory import FRAMING
from tests.queries import test_queries

IN_RECOVERY = test_queries.value("cluster/in_recovery", bool)


class ServedBy:
    """Which server answered each statement: (query name, server port), from asyncpg's query log."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def __call__(self, record) -> None:
        self.log.append((sent_name(record.query) or record.query, record.conn_addr[1]))

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


# Read your own writes: the consistency token (api/http/consistency.py).

DELAY_REPLAY = test_queries.nothing("cluster/delay_replay")
RELOAD = test_queries.value("cluster/reload", bool)
PAUSE_REPLAY = test_queries.nothing("cluster/pause_replay")
RESUME_REPLAY = test_queries.nothing("cluster/resume_replay")
TOKEN = "consistency-token"
TRIES = 200


async def on(url: str, *statements) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement.query.text)
    finally:
        await connection.close()


@asynccontextmanager
async def serving(url: str, replica: Cluster, served: ServedBy, **settings):
    app = create_app(
        Settings(database_url=url, database_read_url=replica.url("app"), _env_file=None, **settings), observer=served
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def test_a_read_with_the_token_of_a_write_sees_it_on_a_lagging_replica_and_one_without_may_not(
    primary_and_replica,
):
    _, replica, url = primary_and_replica
    await on(replica.url(), DELAY_REPLAY, RELOAD)  # each commit is replayed 20 ms late
    served = ServedBy()
    seen_with = missed_without = 0
    async with serving(url, replica, served, consistency_wait=1.0) as client:
        ann = await new_account(client, "ann")
        before = len(served.log)
        for n in range(TRIES):
            created = await client.post("/items/", json={"name": f"Lamp {n}", "price": 1}, headers=ann.headers)
            assert created.status_code == 201, created.text
            path = created.headers["location"]
            without = await client.get(path)
            with_token = await client.get(path, headers={TOKEN: created.headers[TOKEN]})
            missed_without += without.status_code == 404
            seen_with += with_token.status_code == 200 and with_token.json()["name"] == f"Lamp {n}"
        await asyncio.sleep(0)
    reads_on_replica = [entry for entry in served.log[before:] if entry == ("items/get_by_id", replica.port)]

    assert seen_with == TRIES  # every time
    assert missed_without > 0, "the replica never lagged: the test shows nothing"
    assert len(reads_on_replica) > TRIES  # token reads as well as all the others: it waited for the replay


@pytest.mark.parametrize("fast_path", ["auto", "off"])  # auto: the accelerator where these releases have it
async def test_replay_paused_past_the_wait_or_the_replica_down_the_primary_serves_a_read_with_the_token(
    primary_and_replica, fast_path
):
    primary, replica, url = primary_and_replica
    served = ServedBy()
    settings = {"fast_path": fast_path, "consistency_wait": 0.05, "consistency_cookie": True}
    async with serving(url, replica, served, **settings) as client:
        ann = await new_account(client, "ann")
        await caught_up(primary, replica)
        await on(replica.url("app"), PAUSE_REPLAY)
        try:
            created = await client.post("/items/", json={"name": "Lamp", "price": 1}, headers=ann.headers)
            path, token = created.headers["location"], created.headers[TOKEN]
            document = (await client.get("/openapi.json")).json()
            client.cookies.clear()
            without = await client.get(path)
            read = await served.during(client.get(path, headers={TOKEN: token}))
            with_token = await client.get(path, headers={TOKEN: token})
            malformed = await served.during(client.get(path, headers={TOKEN: "not-a-token"}))
            client.cookies.set("consistency_token", token)
            from_cookie = await served.during(client.get(path))
        finally:
            await on(replica.url("app"), RESUME_REPLAY)
        client.cookies.clear()
        await asyncio.to_thread(replica.stop)
        down = await served.during(client.get(path, headers={TOKEN: token}))
        while_down = await client.get(path, headers={TOKEN: token})

    assert without.status_code == 404  # the replica has not replayed the create
    assert with_token.status_code == 200 and with_token.json()["name"] == "Lamp"
    assert ("consistency/replayed_up_to", replica.port) in read  # it was asked, and waited for
    assert read[-1] == ("items/get_by_id", primary.port)
    assert malformed == [("items/get_by_id", replica.port)]  # ignored: served as without a token
    cookie = created.headers["set-cookie"]
    assert cookie.startswith(f"consistency_token={token};") and "HttpOnly" in cookie
    declared = {name.lower() for name in document["paths"]["/items/"]["post"]["responses"]["201"]["headers"]}
    assert set(created.headers) - FRAMING <= declared  # the token and the cookie too
    assert from_cookie[-1] == ("items/get_by_id", primary.port)
    assert down[-1] == ("items/get_by_id", primary.port)
    assert while_down.status_code == 200 and while_down.json()["name"] == "Lamp"
