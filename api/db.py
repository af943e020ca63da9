"""The connection pool, and each request's way to it.

A request never holds a connection between statements: `Session.run` borrows one for the
statement and gives it back, even when the request is cancelled. A transaction holds one
connection from BEGIN to COMMIT, and every statement run inside it goes over it, so a
request holds at most one connection at any moment.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import asyncpg
import orjson
from asyncpg.connection import LoggedQuery
from fastapi import Depends, Request

from api.config import Settings
from api.sql import Returns, Statement

R = TypeVar("R")

APPLICATION_NAME = "api"

SERVER_SETTINGS = {
    "application_name": APPLICATION_NAME,
    # Short OLTP statements: compiling them costs more than it saves.
    "jit": "off",
    # Plan each execution for its own values. A list's optional filters (an attribute, a price
    # range, a cursor) change the best plan; PostgreSQL's generic plan, which it may switch
    # to after five executions of a prepared statement, cannot know them. Planning these
    # short statements costs microseconds of database CPU, which has room to spare.
    "plan_cache_mode": "force_custom_plan",
}


StatementObserver = Callable[[LoggedQuery], None]


def _connection_setup(observer: StatementObserver | None) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def init(connection: asyncpg.Connection) -> None:
        # json and jsonb arrive as Python objects, not as text to parse again. json only carries
        # objects the queries build (a post's author): orjson, the fastest. jsonb carries what
        # clients sent (item attributes), whose integers may pass 64 bits, orjson's limit:
        # the standard library keeps them exact.
        await connection.set_type_codec(
            "json", schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads
        )
        await connection.set_type_codec("jsonb", schema="pg_catalog", encoder=json.dumps, decoder=json.loads)
        if observer is not None:
            connection.add_query_logger(observer)

    return init


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Reset on release: nothing. asyncpg rolls back an open transaction before calling this,
    and the service never changes session state outside one (it uses SET LOCAL), so the
    default `RESET ALL; UNLISTEN *; ...` round trip on every release would buy nothing."""


class Database:
    """The pool, opened in the app's lifespan and closed when it ends."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self.pool = pool
        self.acquire_timeout = acquire_timeout

    @classmethod
    async def open(cls, settings: Settings, observer: StatementObserver | None = None) -> Database:
        """Open the pool; `observer`, if given, hears of every statement any connection runs."""
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set (make run and make test set it for you)")
        pool = await asyncpg.create_pool(
            settings.database_url.get_secret_value(),
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            command_timeout=settings.command_timeout,
            init=_connection_setup(observer),
            reset=_keep_session,
            server_settings=SERVER_SETTINGS,
        )
        return cls(pool, settings.pool_acquire_timeout)

    async def close(self) -> None:
        await self.pool.close()


_METHODS = {Returns.ONE: "fetchrow", Returns.MANY: "fetch", Returns.VALUE: "fetchval", Returns.NOTHING: "execute"}


async def _run_on(connection: Any, statement: Statement[R], args: tuple[Any, ...]) -> R:
    query = statement.query
    raw = await getattr(connection, _METHODS[query.returns])(query.text, *args)
    return statement.convert(raw)


class Session:
    """One request's access to the database."""

    __slots__ = ("_connection", "_database")

    def __init__(self, database: Database) -> None:
        self._database = database
        self._connection: Any = None  # set while a transaction is open

    async def run(self, statement: Statement[R], *args: Any) -> R:
        if self._connection is not None:
            return await _run_on(self._connection, statement, args)
        database = self._database
        async with database.pool.acquire(timeout=database.acquire_timeout) as connection:
            return await _run_on(connection, statement, args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """All statements run inside commit together, or none does."""
        if self._connection is not None:
            raise RuntimeError("transactions do not nest")
        database = self._database
        async with database.pool.acquire(timeout=database.acquire_timeout) as connection, connection.transaction():
            self._connection = connection
            try:
                yield self
            finally:
                self._connection = None


async def _session(request: Request) -> Session:
    return Session(request.app.state.database)


Db = Annotated[Session, Depends(_session)]
