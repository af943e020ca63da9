"""The connection pool, and each request's way to it.

A request never holds a connection between statements: `Session.run` borrows one for the
statement and gives it back, even when the request is cancelled. A transaction holds one
connection from BEGIN to COMMIT, and every statement run inside it goes over it, so a
request holds at most one connection at any moment.

With a replica, a request's commits earn it a consistency token, and a read sent with one
waits for the replica to replay that far (api/http/consistency.py; `Session`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import asyncpg
import orjson
from asyncpg.connection import LoggedQuery
from asyncpg.pool import PoolConnectionProxy
from fastapi import Depends, Request
from opentelemetry.trace import Tracer

from api.config import Settings
from api.data.pool_turns import Turns
from api.data.registry import Returns, Statement, queries
from api.http.consistency import SCOPE_KEY, Consistency
from api.http.errors import ServiceUnavailable
from api.observability.statements import Sent, waited

R = TypeVar("R")

APPLICATION_NAME = "api"

# Fixed for every connection; the timeouts come from the settings (server_settings()).
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

# After these, a connection cannot be trusted (its server went away, its protocol lost its
# place): it is closed, not pooled again. The pool's reset does no round trip that would
# otherwise notice, and the next request would inherit the wreck. A timed-out statement is
# not among them: asyncpg cancels it on the server, and closing the connection first could
# let it go on and commit after the client was told 503.
BROKEN = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    ConnectionError,  # reset, refused, aborted, broken pipe
)

REPLICA_REST = 5.0  # seconds a failed replica is left alone before it is tried again

CONNECT_BACKOFF_FIRST, CONNECT_BACKOFF_MAX = 0.5, 5.0  # seconds between attempts, doubling

# A read with a consistency token asks the replica how far it has replayed, every few ms.
REPLAY_POLL_FIRST = 0.002  # seconds, doubling up to the request's CONSISTENCY_WAIT
WRITTEN_UP_TO = queries.value("consistency/written_up_to", int)
REPLAYED_UP_TO = queries.value("consistency/replayed_up_to", int)

log = logging.getLogger("api.data.db")


StatementObserver = Callable[[LoggedQuery], None]


def _connection_setup(observer: StatementObserver | None) -> Callable[[asyncpg.Connection], Coroutine[Any, Any, None]]:
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


def server_settings(settings: Settings) -> dict[str, str]:
    def ms(seconds: float) -> str:
        return str(round(seconds * 1000))

    return {
        **SERVER_SETTINGS,
        "statement_timeout": ms(settings.statement_timeout),
        "lock_timeout": ms(settings.lock_timeout),
        "idle_in_transaction_session_timeout": ms(settings.idle_in_transaction_timeout),
    }


class Database:
    """The pools: opened in the app's lifespan (connect) and closed when it ends.

    Until the primary's pool is open, `pool` is None and every statement is a 503: the
    service answers (its liveness does not depend on the database) while it keeps trying to
    connect. With DATABASE_READ_URL, `replica` is a second pool, for read-only queries; it
    connects on demand, and when it fails the primary serves while it rests a few seconds."""

    def __init__(
        self, settings: Settings, observer: StatementObserver | None = None, tracer: Tracer | None = None
    ) -> None:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set (make run and make test set it for you)")
        self.settings = settings
        self.observer = observer
        self.tracer = tracer  # a span per statement, when requests are traced (api/observability/tracing.py)
        self.acquire_timeout = settings.pool_acquire_timeout
        self.behind_pgbouncer = settings.behind_pgbouncer
        self.pool: asyncpg.Pool | None = None
        self.replica: asyncpg.Pool | None = None
        self.replica_resting_until = 0.0
        self.turns: dict[asyncpg.Pool, Turns] = {}  # per pool: see _Borrowed

    @classmethod
    async def open(cls, settings: Settings, observer: StatementObserver | None = None) -> Database:
        """A database with its pool open, or the error that kept it shut (for tools and tests)."""
        database = cls(settings, observer)
        await database.try_connect()
        return database

    async def try_connect(self) -> None:
        settings = self.settings
        assert settings.database_url is not None  # checked in __init__
        self.pool = await self._create_pool(settings.database_url.get_secret_value(), settings.pool_min_size)
        if settings.database_read_url is not None and self.replica is None:
            self.replica = await self._create_pool(settings.database_read_url.get_secret_value(), 0)

    async def _create_pool(self, url: str, min_size: int) -> asyncpg.Pool:
        settings = self.settings
        pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=settings.pool_max_size,
            timeout=settings.connect_timeout,
            command_timeout=settings.command_timeout,
            init=_connection_setup(self.observer),
            reset=_keep_session,
            # Behind PgBouncer's transaction pooling a server connection serves many clients:
            # no prepared statement outlives a transaction, and no startup parameter but the
            # application name passes (set the timeouts on the role, see the README).
            statement_cache_size=0 if self.behind_pgbouncer else 100,
            server_settings={"application_name": APPLICATION_NAME}
            if self.behind_pgbouncer
            else server_settings(settings),
        )
        self.turns[pool] = Turns(settings.pool_max_size, settings.pool_acquire_timeout)
        return pool

    def replica_failed(self, error: BaseException) -> None:
        log.warning("read replica failed, the primary serves for %.0f s: %s", REPLICA_REST, _reason(error))
        self.replica_resting_until = time.monotonic() + REPLICA_REST

    async def connect(self, attempts: int, first_over: asyncio.Event | None = None) -> bool:
        """Open the pool, retrying up to `attempts` times with a growing pause; False if it never
        opened. `first_over` is set once the first attempt is over, whatever its outcome."""
        pause = CONNECT_BACKOFF_FIRST
        for attempt in range(1, attempts + 1):
            try:
                await self.try_connect()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:  # TimeoutError is an OSError
                if first_over is not None:
                    first_over.set()
                if attempt == attempts:
                    log.error("giving up on the database after %d attempts: %s", attempts, _reason(error))
                    return False
                log.warning(
                    "database not reachable (attempt %d of %d): %s; next try in %.1f s",
                    attempt, attempts, _reason(error), pause,
                )  # fmt: skip
                await asyncio.sleep(pause)
                pause = min(pause * 2, CONNECT_BACKOFF_MAX)
            else:
                if first_over is not None:
                    first_over.set()
                log.info("connected to the database (attempt %d)", attempt)
                return True
        return False

    async def close(self) -> None:
        for pool in (self.pool, self.replica):
            if pool is not None:
                await pool.close()


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


_METHODS = {Returns.ONE: "fetchrow", Returns.MANY: "fetch", Returns.VALUE: "fetchval", Returns.NOTHING: "execute"}


async def _run_on(connection: Any, statement: Statement[R], args: tuple[Any, ...], sent: Sent) -> R:
    query = statement.query
    try:
        raw = await getattr(connection, _METHODS[query.returns])(query.text, *args)
    except BaseException as error:
        sent.failed(error)
        raise
    sent.answered(raw)
    return statement.convert(raw)


def _primary(database: Database) -> asyncpg.Pool:
    if database.pool is None:
        raise ServiceUnavailable("The service is still connecting to its database.")
    return database.pool


class _Borrowed:
    """A connection from a pool, on a turn taken first come, first served (api/data/pool_turns.py).

    With a turn in hand a connection is free in the pool. Only when none is open and idle,
    and the pool must first connect, is asyncpg's own timeout (a task and a timer) paid for."""

    __slots__ = ("_borrowing", "_pool", "_timeout", "_turns")

    def __init__(self, pool: asyncpg.Pool, turns: Turns, timeout: float) -> None:
        self._pool, self._turns, self._timeout = pool, turns, timeout

    async def __aenter__(self) -> PoolConnectionProxy:
        await self._turns.take()
        try:
            pool = self._pool
            self._borrowing = pool.acquire(timeout=None if pool.get_idle_size() else self._timeout)
            return await self._borrowing.__aenter__()
        except BaseException:
            self._turns.give_back()
            raise

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await self._borrowing.__aexit__(*exc_info)
        finally:
            self._turns.give_back()


def _acquire(database: Database, pool: asyncpg.Pool) -> _Borrowed:
    return _Borrowed(pool, database.turns[pool], database.acquire_timeout)


async def _run_alone(
    database: Database,
    pool: asyncpg.Pool,
    statement: Statement[R],
    args: tuple[Any, ...],
    consistency: Consistency | None = None,
) -> R:
    """One statement on a connection borrowed for it. Behind PgBouncer it runs in a transaction
    of its own: asyncpg prepares and executes in two round trips, which PgBouncer would
    otherwise be free to send to two different servers. With `consistency`, it is a write
    whose commit earns the request a token."""
    sent = Sent(statement.query, database.tracer)  # its wait, its time, its span (observability/statements.py)
    try:
        async with _acquire(database, pool) as connection:
            sent.connected()
            try:
                if database.behind_pgbouncer:
                    async with connection.transaction():
                        result = await _run_on(connection, statement, args, sent)
                else:
                    result = await _run_on(connection, statement, args, sent)
            except BROKEN:
                connection.terminate()
                raise
            if consistency is not None:
                await _note_commit(database, connection, consistency)
            return result
    except BaseException as error:
        sent.failed(error)  # no connection came in time, or the statement failed (then it is told already)
        raise
    finally:
        sent.end()


async def _run_held(database: Database, connection: Any, statement: Statement[R], args: tuple[Any, ...]) -> R:
    """A statement on a connection the request holds already (its wait was counted)."""
    sent = Sent(statement.query, database.tracer, in_transaction=True)
    try:
        return await _run_on(connection, statement, args, sent)
    finally:
        sent.end()


async def _note_commit(database: Database, connection: Any, consistency: Consistency) -> None:
    """Where the WAL stands once a commit returned: the position the request's token names.
    Failing to read it, the answer goes without a token rather than as a 503: the write did
    commit, and a client told otherwise might make it again."""
    try:
        if database.behind_pgbouncer:
            async with connection.transaction():
                position = await _run_held(database, connection, WRITTEN_UP_TO, ())
        else:
            position = await _run_held(database, connection, WRITTEN_UP_TO, ())
    except (*BROKEN, asyncpg.PostgresError, TimeoutError) as error:
        if isinstance(error, BROKEN):
            connection.terminate()
        log.warning("an answer goes without its consistency token: %s", _reason(error))
        return
    if position is not None:
        consistency.commit(position)


class _NotReplayed(Exception):
    """The replica had not replayed what the request's token names within its wait."""


async def _run_replayed(
    database: Database, replica: asyncpg.Pool, statement: Statement[R], args: tuple[Any, ...], wanted: int, until: float
) -> R:
    """The statement on the replica once it has replayed up to the WAL position `wanted`;
    _NotReplayed if it has not by `until` (or is not a standby). Each look is a round trip on
    a connection borrowed for it and given back between looks, so that readers waiting for
    the replay hold no connection that other readers need."""
    pause = REPLAY_POLL_FIRST
    while True:
        asked = time.perf_counter()
        async with _acquire(database, replica) as connection:
            waited(time.perf_counter() - asked)
            try:
                if database.behind_pgbouncer:  # the look and the read on one server connection
                    async with connection.transaction():
                        replayed = await _run_held(database, connection, REPLAYED_UP_TO, ())
                        if replayed is not None and replayed >= wanted:
                            return await _run_held(database, connection, statement, args)
                else:
                    replayed = await _run_held(database, connection, REPLAYED_UP_TO, ())
                    if replayed is not None and replayed >= wanted:
                        return await _run_held(database, connection, statement, args)
            except BROKEN:
                connection.terminate()
                raise
        remaining = until - time.monotonic()
        if replayed is None or remaining <= 0:
            raise _NotReplayed
        await asyncio.sleep(min(pause, remaining))
        pause *= 2


# A replica that fails like this hands its reads to the primary (a hot standby may also
# cancel a read that conflicts with the replay: a rollback error).
REPLICA_FAILURES = (*BROKEN, OSError, asyncpg.TransactionRollbackError)


class Session:
    """One request's access to the database.

    A read-only query (its header says so) goes to the replica, if there is one, until the
    request has used the primary: after a write, in a transaction, or after a query that
    must see the latest data (signing in), a request reads its own writes.

    With a replica, the request's commits earn it a consistency token (the WAL position after
    the last one), and a read sent with a token goes to the replica only once it has replayed
    that far, waiting CONSISTENCY_WAIT at most for it; then the primary serves."""

    __slots__ = ("_connection", "_consistency", "_database", "_on_primary", "_replay_until")

    def __init__(self, database: Database, consistency: Consistency | None = None) -> None:
        self._database = database
        self._connection: Any = None  # set while a transaction is open
        self._on_primary = False
        # Without a replica every read sees every write: a token would cost a round trip for nothing.
        self._consistency = consistency if database.settings.database_read_url is not None else None
        self._replay_until: float | None = None

    async def run(self, statement: Statement[R], *args: Any) -> R:
        if self._connection is not None:
            sent = Sent(statement.query, self._database.tracer, in_transaction=True)
            try:
                return await _run_on(self._connection, statement, args, sent)
            finally:
                sent.end()
        database = self._database
        replica = database.replica
        read_only = statement.query.read_only
        if (
            replica is not None
            and read_only
            and not self._on_primary
            and time.monotonic() >= database.replica_resting_until
        ):
            try:
                wanted = self._wanted()
                if wanted is None:
                    return await _run_alone(database, replica, statement, args)
                assert self._replay_until is not None  # set with wanted
                return await _run_replayed(database, replica, statement, args, wanted, self._replay_until)
            except _NotReplayed:
                pass  # the primary has it
            except REPLICA_FAILURES as error:
                database.replica_failed(error)
        self._on_primary = True
        return await _run_alone(database, _primary(database), statement, args, None if read_only else self._consistency)

    def _wanted(self) -> int | None:
        """The WAL position the request's token names, if it sent one; its wait starts now."""
        if self._consistency is None:
            return None
        settings = self._database.settings
        wanted = self._consistency.wanted(cookie=settings.consistency_cookie)
        if wanted is not None and self._replay_until is None:
            self._replay_until = time.monotonic() + settings.consistency_wait
        return wanted

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """All statements run inside commit together, or none does. Inside another
        transaction this is a savepoint: it rolls back alone, and commits with the outer one."""
        if self._connection is not None:
            async with self._connection.transaction():
                yield self
            return
        database = self._database
        self._on_primary = True
        asked = time.perf_counter()
        async with _acquire(database, _primary(database)) as connection:
            waited(time.perf_counter() - asked)  # for Server-Timing; its statements then wait for nothing
            try:
                async with connection.transaction():
                    self._connection = connection
                    try:
                        yield self
                    finally:
                        self._connection = None
                if self._consistency is not None:
                    await _note_commit(database, connection, self._consistency)
            except BROKEN:
                connection.terminate()
                raise


async def _session(request: Request) -> Session:
    return Session(request.app.state.database, request.scope.get(SCOPE_KEY))


Db = Annotated[Session, Depends(_session)]
