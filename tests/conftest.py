"""The suite's fixtures.

One database for the whole run, created empty and migrated (never the developer's data),
on DATABASE_URL's server or the embedded one; the real app with its real lifespan; every
test that uses the client starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from api.config import Settings
from api.data.db import Session
from api.data.registry import sent_name
from api.fastpath.versions import untested
from api.main import create_app
from api.tools import migrate
from api.tools.database import scratch_database
from tests import ordering, progress
from tests.accounts import Account, stored_account
from tests.clusters import Cluster, PgBouncer
from tests.queries import test_queries

TRUNCATE_ALL = test_queries.nothing("truncate_all")
BOTH = {"on": "auto", "off": "off"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ordering.longest_files_first(config, items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    ordering.count_time(report)


def pytest_sessionstart(session: pytest.Session) -> None:
    progress.database_starting(session, through_pgbouncer=THROUGH_PGBOUNCER)


def pytest_sessionfinish(session: pytest.Session) -> None:
    ordering.keep_times(session.config)
    progress.database_done()


def pytest_report_header(config: pytest.Config) -> str:
    """Which road the suite's app takes: FAST_PATH, and what it means with these releases."""
    mode = Settings(_env_file=None).fast_path
    outside = untested()
    if mode == "off" or (mode == "auto" and outside):
        return f"FAST_PATH={mode}: stock FastAPI" + (f" ({'; '.join(outside)})" if outside else "")
    return f"FAST_PATH={mode}: the accelerator"


# Set by tests/test_pgbouncer.py, which runs the API tests again with the app behind PgBouncer.
THROUGH_PGBOUNCER = os.environ.get("API_TEST_THROUGH_PGBOUNCER") == "1"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if THROUGH_PGBOUNCER:
        base = tmp_path_factory.mktemp("pgbouncer")
        with Cluster(base) as cluster:
            migrate.apply(cluster.create_database("app"))
            with PgBouncer(cluster, base) as bouncer:
                yield bouncer.url("app")
        return
    with scratch_database(Settings(), prefix="api_test") as url:
        migrate.apply(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, behind_pgbouncer=THROUGH_PGBOUNCER, _env_file=None)


class StatementLog:
    """The names of the queries the app sends (each carries `/* its name */`); transaction
    control (BEGIN, COMMIT, which wrap every statement behind PgBouncer) is left aside."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, record) -> None:
        if (name := sent_name(record.query)) is not None:
            self.sent.append(name)

    @asynccontextmanager
    async def recording(self) -> AsyncIterator[list[str]]:
        """Yields the list of names sent until the block ends."""
        start = len(self.sent)
        sent: list[str] = []
        yield sent
        await asyncio.sleep(0)  # asyncpg hands records to loggers on the next loop turn
        sent.extend(self.sent[start:])


@pytest.fixture(scope="session")
def statements() -> StatementLog:
    return StatementLog()


@pytest.fixture(scope="session")
async def app(settings: Settings, statements: StatementLog) -> AsyncIterator[FastAPI]:
    app = create_app(settings, observer=statements)
    async with LifespanManager(app):
        yield app


@pytest.fixture(scope="module")
async def both(settings: Settings) -> AsyncIterator[dict[str, FastAPI]]:
    """Two apps on one database, both running: "on" takes the accelerator wherever these releases
    have it (FAST_PATH=auto: elsewhere it serves stock, so the tests still run), "off" is stock."""
    apps = {mode: create_app(settings.model_copy(update={"fast_path": fast_path})) for mode, fast_path in BOTH.items()}
    async with LifespanManager(apps["on"]), LifespanManager(apps["off"]):
        yield apps


# The one origin whose pages the `listing_an_origin` app lets write and read (CORS_ORIGINS).
LISTED_ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
async def listing_an_origin(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose CORS_ORIGINS is LISTED_ORIGIN."""
    app = create_app(settings.model_copy(update={"cors_origins": [LISTED_ORIGIN]}))
    transport = httpx.ASGITransport(app=app)
    async with LifespanManager(app), httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def db(app: FastAPI) -> Session:
    """Direct access to the test database, for checking what a request did (or did not) write."""
    return Session(app.state.database)


@pytest.fixture
async def client(app: FastAPI, db: Session) -> AsyncIterator[httpx.AsyncClient]:
    await db.run(TRUNCATE_ALL)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


# Signed in without the sign-in's hashing (tests/accounts.py); the tests of signing up and in
# make their accounts through the API (new_account).
@pytest.fixture
async def ann(app: FastAPI, client: httpx.AsyncClient) -> Account:
    return await stored_account(app, "ann")


@pytest.fixture
async def bob(app: FastAPI, client: httpx.AsyncClient) -> Account:
    return await stored_account(app, "bob")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A throwaway PostgreSQL server of its own, for tests that restart or kill it."""
    with Cluster(tmp_path) as cluster:
        yield cluster


@pytest.fixture
def cluster_url(cluster: Cluster) -> str:
    """A migrated database on that server."""
    url = cluster.create_database("app")
    migrate.apply(url)
    return url
