"""The app factory and its lifespan: `uvicorn --factory api.main:create_app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import docs, errors
from api.config import Settings, get_settings
from api.db import Database
from api.passwords import Passwords
from api.request_id import RequestIdMiddleware
from api.routes import health, items, users

DESCRIPTION = """
A REST API over PostgreSQL without an ORM: every statement the service sends is a
reviewed `.sql` file. Errors are RFC 9457 problem details (`application/problem+json`).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = await Database.open(settings)
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
    app.add_middleware(RequestIdMiddleware)
    docs.install(app)
    for router in (items.router, users.router, health.router):
        app.include_router(router)
    return app
