"""The app factory and its lifespan: `uvicorn --factory api.main:create_app`."""

import asyncio
import gc
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from opentelemetry.trace import TracerProvider
from starlette.middleware.cors import CORSMiddleware

from api import fastpath
from api.config import Settings, get_settings
from api.data.db import Database, StatementObserver
from api.http import docs, errors, openapi
from api.http.draining import Draining, grace_on_sigterm
from api.http.edge import EdgeMiddleware
from api.http.query_values import one_value_each
from api.observability import metrics, tracing
from api.resources.auth import routes as auth
from api.resources.health import routes as health
from api.resources.items import routes as items
from api.resources.posts import routes as posts
from api.resources.users import routes as users
from api.security.holding import Holding
from api.security.passwords import Passwords
from api.security.throttle import Throttle

# Every resource's router, in the order their routes are tried. A new resource joins here.
ROUTERS: tuple[APIRouter, ...] = (auth.router, users.router, posts.router, items.router, health.router)

# What a page on another origin may send beyond the basics, and read from an answer.
CLIENT_HEADERS = ["Consistency-Token", "Idempotency-Key", "If-Match", "If-None-Match", "Prefer", "X-Request-ID"]
EXPOSED_HEADERS = [
    "Consistency-Token",
    "ETag",
    "Location",
    "Link",
    "Preference-Applied",
    "Idempotent-Replayed",
    "Retry-After",
    "X-Request-ID",
    "Server-Timing",
]

DESCRIPTION = """
A REST API over PostgreSQL without an ORM: every statement the service sends is a
reviewed `.sql` file. Errors are RFC 9457 problem details (`application/problem+json`).

Reading is open to all. Writing needs a bearer token from `POST /auth/token` (the
**Authorize** button signs Swagger UI in), and only an item's owner or a post's author may
change or delete it.
"""


def stop_process() -> None:
    """Ask the server to shut down, as an orchestrator would: it drains and exits."""
    os.kill(os.getpid(), signal.SIGTERM)


async def _connect_or_stop(database: Database, attempts: int, first_over: asyncio.Event) -> None:
    # Past its bounded attempts the service stops rather than hide the fault: an orchestrator
    # restarts it, and someone sees why in the log.
    if not await database.connect(attempts, first_over):
        stop_process()


def create_app(
    settings: Settings | None = None,
    observer: StatementObserver | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The app; `observer`, if given, hears of every statement sent to the database, and
    `tracer_provider`, if given, gets its traces (otherwise OTEL_* decide: api/observability/tracing.py)."""
    settings = settings or get_settings()
    telemetry = tracing.telemetry(tracer_provider)
    draining = Draining()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # FastAPI has set up OpenTelemetry from the OTEL_* variables by now, when they ask for it.
        tracer = tracing.statement_tracer(tracer_provider) if telemetry["tracing"] else None
        database = app.state.database = Database(settings, observer, tracer)
        first_over = asyncio.Event()
        connecting = asyncio.create_task(_connect_or_stop(database, settings.connect_attempts, first_over))
        await first_over.wait()  # connected, usually; if not, serve 503s while trying on
        # What startup built (the app, its routes and models, the modules) lives as long as
        # the process. Frozen, the cyclic garbage collector no longer walks it at each full
        # collection: a fifth of a point lookup's CPU goes otherwise (make bench).
        gc.collect()
        gc.freeze()
        try:
            with grace_on_sigterm(draining, settings.shutdown_grace_seconds):  # SHUTDOWN_GRACE_SECONDS
                yield
        finally:
            connecting.cancel()
            await database.close()
            gc.unfreeze()  # an app made again in this process (tests) must not pile up

    app = FastAPI(
        title="Items, users and posts API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(one_value_each)],  # a single-valued query key given twice is a 422
        docs_url=None,  # served by api.http.docs from local assets
        redoc_url=None,
        # FastAPI's own OpenTelemetry: its server spans when traces are wanted, otherwise off
        # (its hooks would look for providers on every request).
        telemetry=telemetry,
    )
    app.state.settings = settings
    app.state.draining = draining
    holding = app.state.holding = Holding.from_settings(settings)  # refusals held before they are sent
    app.state.passwords = Passwords(settings, holding)
    app.state.throttle = Throttle(settings, holding)
    errors.install(app, settings)
    counted = metrics.install(app)  # /metrics, and what counts every other request
    if settings.cors_origins:  # inside the edge: preflights get a request id, and no database
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", *CLIENT_HEADERS],
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
    # Request ids, metrics, 304s, HEAD, OPTIONS and the body limit, in one layer (api/http/edge.py).
    app.add_middleware(
        EdgeMiddleware,
        metrics=counted,
        max_body_bytes=settings.max_body_bytes,
        server_timing=settings.server_timing,
        traced=telemetry["tracing"],
        consistency_cookie=settings.consistency_cookie,
        draining=draining,
        cors_origins=settings.cors_origins,
        request_log=settings.request_log,
    )
    docs.install(app)
    openapi.install(app, server_timing=settings.server_timing, consistency_cookie=settings.consistency_cookie)
    for router in ROUTERS:
        app.include_router(router)
    fastpath.install(app, settings.fast_path)  # FAST_PATH: the accelerator, where it is tested (api/fastpath/)
    return app
