"""What make test is doing before its first test reports: which PostgreSQL it uses, and that
each test process makes a database of its own.

The first run on a new machine starts the embedded server with initdb, and each pytest-xdist
worker then creates and migrates its database; the workers' output is captured, so without
these lines the run says nothing for that while. The controller starts (or joins) the
embedded server itself and holds it until the run ends, so the workers join a running server
instead of racing to start it, and it is stopped once, at the end."""

from __future__ import annotations

from contextlib import ExitStack
from time import perf_counter

import pytest

from api.config import Settings
from api.tools.database import PGDATA, embedded_server

_held = ExitStack()


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def database_starting(session: pytest.Session, *, through_pgbouncer: bool) -> None:
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if not _is_controller(config) or through_pgbouncer or reporter is None:
        return
    settings = Settings()
    if settings.database_url is not None:
        reporter.write_line("== PostgreSQL: the server DATABASE_URL names")
    else:
        reporter.write_line(f"== PostgreSQL: the embedded server in {PGDATA} (the first time: initdb, a few seconds)")
        started = perf_counter()
        _held.enter_context(embedded_server(settings))
        reporter.write_line(f"== PostgreSQL: ready in {perf_counter() - started:.1f} s")
    workers = getattr(config.option, "numprocesses", None) or 0
    who = f"each of the {workers} test processes" if workers else "the test process"
    reporter.write_line(f"== {who} creates an empty database of its own and migrates it, then the tests run")


def database_done() -> None:
    _held.close()
