"""Serve the API: `make run` (development) and `make serve WORKERS=n` (production).

Finds the database (DATABASE_URL, or the embedded server), applies pending migrations,
then runs uvicorn (granian with SERVER=granian, `make serve SERVER=granian`) on HOST:PORT
from the settings.

    python -m api.tools.serve --reload          development: restart on code changes
    python -m api.tools.serve [--workers N]     production: N processes, uvloop and httptools, no access log
    SERVER=granian python -m api.tools.serve    the same app on granian (the `granian` extra), for the bench
"""

from __future__ import annotations

import argparse
import atexit
import logging
import logging.config
import math
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from api.config import Settings
from api.observability.logs import logging_config
from api.tools import migrate
from api.tools.database import REPO_ROOT, development_database

log = logging.getLogger("api.tools.serve")

APP = "api.main:create_app"
# What development reload watches: the code, the statements it loads at startup and the
# migrations applied before it. Not the whole checkout, where a new virtualenv or a generated
# client is thousands of files written, each a restart.
RELOAD_DIRS = [str(REPO_ROOT / folder) for folder in ("api", "sql", "migrations")]
RELOAD_FILES = ["*.py", "*.sql"]
SERVERS = ("uvicorn", "granian")
# uvicorn's httptools protocol with the request head bounded (size, header count, time):
# what uvicorn has no option for with httptools (api/http/request_head.py).
HEAD_LIMITED_HTTP = "api.http.request_head:LimitedHttpToolsProtocol"


def uvicorn_options(*, workers: int, reload: bool = False) -> dict[str, Any]:
    """How uvicorn runs, in one place: the service and the bench's floor apps run the same way.

    Production names uvloop and httptools (its protocol, with the request head bounded)
    outright, so that a missing one fails at startup instead of uvicorn quietly falling back
    to the slower asyncio loop and h11 parser. It writes no access log: a line per request
    costs throughput, and a proxy in front logs requests anyway. Development reloads on
    change, with the same bounds on what it reads, and writes no access log either: uvicorn's
    line quotes the raw path and query string, a search term or whatever a client typed in a
    path, where the service's own lines never carry a value a client sent (requests by route
    template are in /metrics). Neither believes
    X-Forwarded-For itself (uvicorn would, from any peer on 127.0.0.1): the app reads it from
    TRUSTED_PROXIES only (api/http/client_address.py).
    """
    if reload:
        return {
            "reload": True,
            "reload_dirs": RELOAD_DIRS,
            "reload_includes": RELOAD_FILES,
            "access_log": False,
            "http": HEAD_LIMITED_HTTP,
            "proxy_headers": False,
        }
    return {
        "workers": workers,
        "loop": "uvloop",
        "http": HEAD_LIMITED_HTTP,
        "access_log": False,
        "proxy_headers": False,
    }


def read_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's own bounds on what it reads, from the settings: the idle time of a kept-alive
    connection and the connections a worker serves at once (503 beyond). The head's size,
    header count and time are the protocol's (HEAD_LIMITED_HTTP); h11 (which `--http h11`
    would pick) is given the same size bound."""
    return {
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.max_connections,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


def run(app: str, settings: Settings, *, workers: int = 1, reload: bool = False, server: str = "uvicorn") -> None:
    """Run the ASGI app factory `app` ('module:function') on the settings' HOST:PORT."""
    if server == "granian":
        _run_granian(app, settings, workers=workers)
        return
    uvicorn.run(
        app,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=logging_config(settings.log_level, settings.log_format),
        # SIGTERM: drain, then stop. uvicorn annotates int seconds, but passes them to
        # asyncio.wait_for, which takes a float.
        timeout_graceful_shutdown=settings.shutdown_timeout,  # type: ignore[arg-type]
        **read_limits(settings),
        **uvicorn_options(workers=workers, reload=reload),
    )


def granian_options(settings: Settings, *, workers: int) -> dict[str, Any]:
    """granian as close to uvicorn's production options as it goes (`SERVER=granian`).

    ASGI with the app's lifespan, uvloop, HTTP/1.1 only (httptools' protocol), no access log,
    the service's log format. Its workers are spawned interpreters, as uvicorn's are, not
    forks of this process, which has run migrations. Where uvicorn's supervisor restarts a
    worker that died (more than one worker), granian does too; alone, a dead worker stops the
    service, as with uvicorn. On SIGTERM granian lets in-flight requests finish and runs the
    lifespan's shutdown; it has no deadline of its own for that, only one to kill its workers:
    SHUTDOWN_TIMEOUT is that one, so past it connections are reset and the pool is not closed
    (PostgreSQL rolls back what was open), where uvicorn cancels the requests and closes it.
    """
    from granian.constants import HTTPModes, Interfaces, Loops

    return {
        "interface": Interfaces.ASGI,
        "loop": Loops.uvloop,
        "http": HTTPModes.http1,
        "websockets": False,
        "workers": workers,
        "factory": True,
        "log_dictconfig": logging_config(settings.log_level, settings.log_format),
        "log_access": False,
        "respawn_failed_workers": workers > 1,
        "workers_kill_timeout": max(1, math.ceil(settings.shutdown_timeout)),
    }


def _run_granian(app: str, settings: Settings, *, workers: int) -> None:
    try:
        from granian import Granian
    except ImportError:
        raise SystemExit("SERVER=granian: granian is not installed (pip install -e '.[granian]')") from None
    multiprocessing.set_start_method("spawn", force=True)
    Granian(app, address=settings.host, port=settings.port, **granian_options(settings, workers=workers)).serve()


def _share_metrics_between_workers() -> None:
    """Each worker counts its own requests; prometheus-client's multiprocess mode sums them at a
    scrape, through files in PROMETHEUS_MULTIPROC_DIR, which must start empty (files from an
    earlier run would be added in). Set before any worker imports the metrics."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory is None:
        directory = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="api-metrics-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    for leftover in Path(directory).glob("*.db"):
        leftover.unlink()


def _for_development(settings: Settings) -> Settings:
    """Development logs a line per request (REQUEST_LOG), and on a terminal logs text lines
    (JSON is for a log pipeline, not for the developer watching `make run`), unless the
    settings say otherwise. The reloaded server process reads its own, from the environment."""
    wanted: dict[str, object] = {}
    if "request_log" not in settings.model_fields_set:
        os.environ["REQUEST_LOG"] = "true"
        wanted["request_log"] = True
    if "log_format" not in settings.model_fields_set and sys.stderr.isatty():
        os.environ["LOG_FORMAT"] = "text"
        wanted["log_format"] = "text"
    return settings.model_copy(update=wanted)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (production; default 1)")
    parser.add_argument(
        "--server", choices=SERVERS, default=os.environ.get("SERVER", "uvicorn"), help="default: $SERVER or uvicorn"
    )
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be 1 or more")
    if args.reload and args.workers != 1:
        parser.error("--reload runs one process: it cannot be combined with --workers")
    if args.server not in SERVERS:  # $SERVER, which argparse does not check against the choices
        parser.error(f"SERVER={args.server}: one of {', '.join(SERVERS)}")
    if args.reload and args.server != "uvicorn":
        parser.error("--reload is uvicorn's: SERVER=granian serves the production way only")

    settings = _for_development(Settings()) if args.reload else Settings()
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))
    logging.captureWarnings(True)  # Python's warnings, as log lines like the rest
    if args.workers > 1:
        _share_metrics_between_workers()
    # uvicorn drains on SIGTERM, then raises it again for the handler it found: this one, so
    # that a clean shutdown exits 0, as an orchestrator expects, not killed by the signal.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    with development_database(settings) as url:
        os.environ["DATABASE_URL"] = url  # the workers read their settings afresh
        applied = migrate.apply(url)
        log.info("migrations applied: %s", ", ".join(applied) or "none pending")
        run(APP, settings, workers=args.workers, reload=args.reload, server=args.server)


if __name__ == "__main__":
    main()
