"""Faults injected for real: timeouts, database restarts and crashes, a database that is not
there at startup, cancelled requests. Requests caught in the gap get 503, never 500; the
service recovers by itself; no acknowledged write is lost, none is made twice.

The servers that get restarted and killed are throwaway clusters of their own
(tests/clusters.py), never the suite's database."""

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import BaseModel

from api import main
from api.config import Settings
from api.data.db import Session
from api.http.errors import UNAVAILABLE
from api.main import create_app
from tests.accounts import new_account
from tests.conftest import test_queries
from tests.problems import assert_problem


class Activity(BaseModel):
    query: str


CURRENT_SETTING = test_queries.value("settings/current", str)
WAITING_STATEMENTS = test_queries.many("activity/waiting_statements", Activity)
LOCK_ITEM = test_queries.value("items/lock", int)
CLOCK = test_queries.value("activity/clock", datetime)
UNTAGGED_POSTS = test_queries.value("posts/untagged_count", int)


class ItemName(BaseModel):
    id: int
    name: str


ITEM_NAMES = test_queries.many("items/names", ItemName)
RECOVERY_DEADLINE = 20.0  # seconds a service may take to serve again after its database returns


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    """A fresh app with these settings, its lifespan running, and a client for it."""
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield app, client


def settings_for(url: str, **overrides) -> Settings:
    return Settings(database_url=url, _env_file=None, **overrides)


async def until_served(client: httpx.AsyncClient, url: str, deadline: float = RECOVERY_DEADLINE) -> list[int]:
    """GET url until it answers 200; returns every status seen (a 500 never belongs there)."""
    statuses, give_up = [], time.monotonic() + deadline
    while time.monotonic() < give_up:
        statuses.append((await client.get(url)).status_code)
        if statuses[-1] == 200:
            return statuses
        await asyncio.sleep(0.1)
    pytest.fail(f"not served again within {deadline} s: {statuses[-10:]}")


# --- Timeouts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timeouts",
    [
        {"statement_timeout": 0.3, "lock_timeout": 0},
        {"statement_timeout": 0, "lock_timeout": 0.3},
        {"statement_timeout": 0, "lock_timeout": 0, "command_timeout": 0.3},
    ],
    ids=["statement_timeout", "lock_timeout", "command_timeout"],
)
async def test_a_request_stuck_on_the_database_ends_in_a_503_at_the_timeout(client, db, ann, settings, timeouts):
    item = (await client.post("/items/", json={"name": "Lamp", "price": 1}, headers=ann.headers)).json()
    async with serving(settings.model_copy(update=timeouts)) as (_, impatient), db.transaction():
        await db.run(LOCK_ITEM, item["id"])  # a writer elsewhere holds the row
        started = time.monotonic()
        response = await impatient.patch(f"/items/{item['id']}", json={"price": 2}, headers=ann.headers)
        waited = time.monotonic() - started

    assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"
    assert 0.25 < waited < 3
    assert (await client.get(f"/items/{item['id']}")).json()["price"] == 1


async def test_requests_waiting_for_a_connection_are_served_first_come_first_served(settings):
    async with serving(settings.model_copy(update={"pool_min_size": 1, "pool_max_size": 1})) as (app, _):

        async def in_line(arrived: int) -> tuple[datetime, int]:
            return await Session(app.state.database).run(CLOCK), arrived

        waiting = []
        for arrived in range(300):  # a newcomer at every turn of the loop, as under load
            waiting.append(asyncio.create_task(in_line(arrived)))
            await asyncio.sleep(0)
        served = sorted(await asyncio.gather(*waiting))

    assert [arrived for _, arrived in served] == list(range(300))


async def test_a_dba_sees_which_query_file_a_running_statement_comes_from(client, app, db, ann):
    item = (await client.post("/items/", json={"name": "Lamp", "price": 1}, headers=ann.headers)).json()
    # Polled from outside the locking transaction: inside one, pg_stat_activity's text is a
    # snapshot taken at its first read (only the wait events are live).
    observer = Session(app.state.database)
    async with db.transaction():
        await db.run(LOCK_ITEM, item["id"])
        patch = asyncio.create_task(client.patch(f"/items/{item['id']}", json={"price": 2}, headers=ann.headers))
        for _ in range(100):
            if waiting := await observer.run(WAITING_STATEMENTS):
                break
            await asyncio.sleep(0.02)
    await patch

    assert [activity.query.split("\n", 1)[0] for activity in waiting] == ["UPDATE /* items/update */ items"]


async def test_the_server_side_timeouts_are_set_on_every_connection(app, db):
    assert await db.run(CURRENT_SETTING, "statement_timeout") == "5s"
    assert await db.run(CURRENT_SETTING, "lock_timeout") == "2s"
    assert await db.run(CURRENT_SETTING, "idle_in_transaction_session_timeout") == "10s"


async def test_a_transaction_left_idle_is_ended_by_the_server(settings):
    async with serving(settings.model_copy(update={"idle_in_transaction_timeout": 0.2})) as (app, _):
        session = Session(app.state.database)
        with pytest.raises(UNAVAILABLE):
            async with session.transaction():
                await session.run(CURRENT_SETTING, "server_version")
                await asyncio.sleep(1)  # a handler stuck with a transaction open
                await session.run(CURRENT_SETTING, "server_version")
        pool = app.state.database.pool
        assert await session.run(CURRENT_SETTING, "server_version")  # the pool replaced the connection
        assert pool.get_idle_size() == pool.get_size()


# --- Restarts and crashes ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_database_restart_gives_503s_in_the_gap_and_the_service_recovers(cluster, cluster_url, mode):
    async with serving(settings_for(cluster_url, pool_min_size=2)) as (_, client):
        assert (await client.get("/items/")).status_code == 200
        statuses: list[int] = []
        stop = asyncio.Event()

        async def keep_reading() -> None:
            while not stop.is_set():
                statuses.append((await client.get("/items/")).status_code)
                await asyncio.sleep(0.01)

        reader = asyncio.create_task(keep_reading())
        await asyncio.sleep(0.2)
        await asyncio.to_thread(cluster.restart, mode)
        after = await until_served(client, "/items/")
        stop.set()
        await reader

    assert set(statuses) | set(after) <= {200, 503}
    assert after[-1] == 200


async def test_starting_with_the_database_down_serves_503_until_it_is_up(cluster, cluster_url, caplog, monkeypatch):
    stopped = []
    monkeypatch.setattr(main, "stop_process", lambda: stopped.append(True))
    cluster.stop()
    with caplog.at_level(logging.WARNING, logger="api.data.db"):
        async with serving(settings_for(cluster_url, connect_attempts=100, connect_timeout=1)) as (_, client):
            live, ready, items = (
                await client.get("/health/live"),
                await client.get("/health/ready"),
                await client.get("/items/"),
            )
            await asyncio.to_thread(cluster.start)
            statuses = await until_served(client, "/health/ready")
            served = await client.get("/items/")

    assert live.status_code == 200
    assert_problem(ready, 503) and assert_problem(items, 503)
    assert set(statuses) <= {200, 503} and served.status_code == 200
    assert any("database not reachable (attempt 1 of 100)" in r.getMessage() for r in caplog.records)
    assert stopped == []


async def test_kill_9_during_keyed_posts_loses_and_duplicates_nothing(cluster, cluster_url):
    """200 concurrent POSTs with idempotency keys; SIGKILL the server while they run; restart
    it; retry every one that was not acknowledged, and a sample that was, with its key."""
    async with serving(settings_for(cluster_url, pool_max_size=10)) as (_, client):
        ann = await new_account(client, "ann")
        keys = [f"key-{n}" for n in range(200)]

        async def post(key: str) -> httpx.Response:
            body = {"name": key, "price": 1}
            return await client.post("/items/", json=body, headers={**ann.headers, "Idempotency-Key": key})

        in_flight = [asyncio.create_task(post(key)) for key in keys]
        while sum(task.done() for task in in_flight) < 30:  # some answered, most still going
            await asyncio.sleep(0.005)
        cluster.kill()
        first = await asyncio.gather(*in_flight)
        acknowledged = {key: r.json()["id"] for key, r in zip(keys, first, strict=True) if r.status_code == 201}
        await asyncio.to_thread(cluster.start)
        await until_served(client, "/items/")

        retried = {}
        for key in [k for k in keys if k not in acknowledged] + list(acknowledged)[:20]:
            for _ in range(50):
                response = await post(key)
                if response.status_code == 201:
                    retried[key] = response
                    break
                assert response.status_code == 503, response.text
                await asyncio.sleep(0.1)

    statuses = {r.status_code for r in first}
    rows = await names_on(cluster_url)
    assert statuses <= {201, 503} and 30 <= len(acknowledged) < 200
    assert sorted(name for _, name in rows) == sorted(keys)  # exactly 200: none lost, none twice
    assert {name: item_id for item_id, name in rows}.items() >= acknowledged.items()
    assert all(retried[key].headers.get("idempotent-replayed") == "true" for key in list(acknowledged)[:20])


async def names_on(url: str) -> list[tuple[int, str]]:
    connection = await asyncpg.connect(url)
    try:
        return [(row.id, row.name) for row in ITEM_NAMES.convert(await connection.fetch(ITEM_NAMES.query.text))]
    finally:
        await connection.close()


# --- Cancelled requests --------------------------------------------------------------------


async def test_500_requests_cancelled_mid_transaction_leak_nothing_and_write_nothing_half(client, app, db, ann, caplog):
    random.seed(7)  # where each request is cut off is random, but the same every run

    async def post(n: int) -> None:
        body = {"title": f"t{n}", "content": "c", "tags": ["a", "b"]}  # post + tags: one transaction
        await client.post("/posts/", json=body, headers=ann.headers)

    with caplog.at_level(logging.WARNING):
        for batch in range(10):
            tasks = [asyncio.create_task(post(batch * 50 + n)) for n in range(50)]
            await asyncio.sleep(random.uniform(0.001, 0.03))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    pool = app.state.database.pool
    deadline = time.monotonic() + 10
    while pool.get_idle_size() < pool.get_size() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert pool.get_idle_size() == pool.get_size()
    assert await db.run(UNTAGGED_POSTS) == 0
    assert not [r for r in caplog.records if "another operation is in progress" in r.getMessage()]
    assert (await client.post("/posts/", json={"title": "t", "content": "c"}, headers=ann.headers)).status_code == 201
