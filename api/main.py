"""The app factory and its lifespan: `uvicorn --factory api.main:create_app`."""

import asyncio
import gc
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import docs, errors, metrics, openapi
from api.config import Settings, get_settings
from api.db import Database, StatementObserver
from api.edge import EdgeApp, EdgeMiddleware
from api.passwords import Passwords
from api.routes import auth, health, items, posts, users
from api.routing import index_routes

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


def create_app(settings: Settings | None = None, observer: StatementObserver | None = None) -> FastAPI:
    """The app; `observer`, if given, hears of every statement sent to the database."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = app.state.database = Database(settings, observer)
        first_over = asyncio.Event()
        connecting = asyncio.create_task(_connect_or_stop(database, settings.connect_attempts, first_over))
        await first_over.wait()  # connected, usually; if not, serve 503s while trying on
        # What startup built (the app, its routes and models, the modules) lives as long as
        # the process. Frozen, the cyclic garbage collector no longer walks it at each full
        # collection: a fifth of a point lookup's CPU goes otherwise (make bench).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            connecting.cancel()
            await database.close()
            gc.unfreeze()  # an app made again in this process (tests) must not pile up

    app = EdgeApp(
        title="Items, users and posts API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by api.docs from local assets
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks look for providers on every request; the service
        # has its own metrics (/metrics) and logs, so they would only cost.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.passwords = Passwords(settings)
    errors.install(app, settings)
    counted = metrics.install(app)  # /metrics, and what counts every other request
    # Request ids, metrics, 304s and the body limit, in one layer (api/edge.py).
    app.add_middleware(EdgeMiddleware, metrics=counted, max_body_bytes=settings.max_body_bytes)
    docs.install(app)
    openapi.install(app)
    for router in (auth.router, users.router, posts.by_author, posts.router, items.router, health.router):
        # The app holds each route itself. include_router would keep the router behind a
        # wrapper that FastAPI walks, route by route, on every request and every url_for;
        # a route already carries its router's prefix, tags and responses.
        app.router.routes.extend(router.routes)
    index_routes(app.router)
    return app
