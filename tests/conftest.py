"""The suite's fixtures.

One database for the whole run, created empty and migrated (never the developer's data),
on DATABASE_URL's server or the embedded one; the real app with its real lifespan; every
test that uses the client starts from empty tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from api.config import Settings
from api.db import Session
from api.main import create_app
from api.sql import load
from api.tools import migrate
from api.tools.database import scratch_database

test_queries = load(Path(__file__).parent / "sql")
TRUNCATE_ALL = test_queries.nothing("truncate_all")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with scratch_database(Settings(), prefix="api_test") as url:
        migrate.apply(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, _env_file=None)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with LifespanManager(app):
        yield app


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
