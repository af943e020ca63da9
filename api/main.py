"""The app factory and its lifespan: `uvicorn --factory api.main:create_app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import docs, errors, openapi
from api.body_limit import BodyLimitMiddleware
from api.config import Settings, get_settings
from api.db import Database, StatementObserver
from api.passwords import Passwords
from api.request_id import RequestIdMiddleware
from api.routes import auth, health, items, posts, users

DESCRIPTION = """
A REST API over PostgreSQL without an ORM: every statement the service sends is a
reviewed `.sql` file. Errors are RFC 9457 problem details (`application/problem+json`).

Reading is open to all. Writing needs a bearer token from `POST /auth/token` (the
**Authorize** button signs Swagger UI in), and only an item's owner or a post's author may
change or delete it.
"""


def create_app(settings: Settings | None = None, observer: StatementObserver | None = None) -> FastAPI:
    """The app; `observer`, if given, hears of every statement sent to the database."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = await Database.open(settings, observer)
        try:
            yield
        finally:
            await app.state.database.close()

    app = FastAPI(
        title="Items, users and posts API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by api.docs from local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.passwords = Passwords(settings)
    errors.install(app, settings)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so it sees every error
    docs.install(app)
    openapi.install(app)
    for router in (auth.router, users.router, posts.by_author, posts.router, items.router, health.router):
        app.include_router(router)
    return app
