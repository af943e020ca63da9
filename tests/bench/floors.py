"""The floors: the least an app can do to answer the bench's workloads with the project's SQL.

    python -m tests.bench.floors fastapi|starlette [--workers N]     (HOST, PORT, DATABASE_URL …)

Two apps, one body of work. Both send the same statements as the project, taken from its
registry (`queries[name].text`, tagged as the project's are), with the arguments
tests/bench/workloads.py gives, over a pool opened exactly as the project opens its own
(`Database.open`: same settings, codecs, reset and server settings). Rows go out with
orjson, as they come, without a model or any validation:

- `fastapi_app`: plain FastAPI routes, with no dependency and no response model, returning
  `Response(orjson.dumps(...))`. Path and query parameters are typed, as any FastAPI route's.
- `starlette_app`: bare Starlette handlers, reading the request themselves.

What they leave out (next links, counts, problem details, request ids, metrics, Location
built by `url_for`) is the project's own cost, which is what the bench measures.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route

from api.config import Settings
from api.data.db import Database
from api.data.registry import queries
from api.tools.serve import run
from tests.bench import workloads

JSON = "application/json"
NOT_FOUND = orjson.dumps({"detail": "Not Found"})
UNAUTHORIZED = orjson.dumps({"detail": "Unauthorized"})


class Statement:
    """One registry query: its text, and its header's parameter names in order."""

    def __init__(self, name: str) -> None:
        self.text = queries[name].text
        self.names = tuple(param.name for param in queries[name].params)

    def args(self, named: workloads.Args) -> tuple[Any, ...]:
        return tuple(named[name] for name in self.names)


def _statement(name: str) -> Statement | None:
    return Statement(name) if name in set(queries) else None  # posts/search may not exist yet


USER_BY_ID = Statement("users/get_by_id")
POSTS_PAGE = Statement("posts/list")
SEARCH = _statement("posts/search")
USER_BY_TOKEN = Statement("auth/user_by_token")
CREATE_ITEM = Statement("items/create")


class Floor:
    """The database work both floors share: each method returns the JSON to send, or None."""

    pool: asyncpg.Pool

    async def user(self, user_id: int) -> bytes | None:
        row = await self.pool.fetchrow(USER_BY_ID.text, *USER_BY_ID.args(workloads.user_by_id_args(user_id)))
        return None if row is None else orjson.dumps(dict(row))

    async def posts(self, limit: int, query: str | None) -> bytes:
        if query is None:
            rows = await self.pool.fetch(POSTS_PAGE.text, *POSTS_PAGE.args(workloads.posts_page_args(limit)))
        elif SEARCH is None:
            raise RuntimeError("sql/posts/search.sql does not exist")
        else:
            rows = await self.pool.fetch(SEARCH.text, *SEARCH.args(workloads.search_args(query, limit)))
        return orjson.dumps({"data": [dict(row) for row in rows[:limit]]})

    async def create_item(self, authorization: str | None, body: bytes) -> tuple[int, bytes] | None:
        """The item created: its id and its JSON; None when the bearer token signs nobody in."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        user = await self.pool.fetchrow(USER_BY_TOKEN.text, *USER_BY_TOKEN.args(workloads.user_by_token_args(token)))
        if user is None:
            return None
        args = workloads.create_item_args(user["id"], orjson.loads(body))
        item = await self.pool.fetchrow(CREATE_ITEM.text, *CREATE_ITEM.args(args))
        return item["id"], orjson.dumps(dict(item))


def _lifespan(floor: Floor) -> Any:
    """The pool, opened at startup as the project opens its own, for either framework."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        database = await Database.open(Settings())
        floor.pool = database.pool
        try:
            yield
        finally:
            await database.close()

    return lifespan


def _json(content: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content, status_code=status, media_type=JSON, headers=headers)


def _created(item: tuple[int, bytes] | None) -> Response:
    if item is None:
        return _json(UNAUTHORIZED, 401, {"WWW-Authenticate": "Bearer"})
    item_id, content = item
    return _json(content, 201, {"Location": f"/items/{item_id}"})


def fastapi_app() -> FastAPI:
    floor = Floor()
    app = FastAPI(lifespan=_lifespan(floor), openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/users/{user_id}")
    async def read_user(user_id: int) -> Response:
        user = await floor.user(user_id)
        return _json(NOT_FOUND, 404) if user is None else _json(user)

    @app.get("/posts/")
    async def list_posts(limit: int = 100, q: str | None = None) -> Response:
        return _json(await floor.posts(limit, q))

    @app.post("/items/")
    async def create_item(request: Request) -> Response:
        return _created(await floor.create_item(request.headers.get("authorization"), await request.body()))

    return app


def starlette_app() -> Starlette:
    floor = Floor()

    async def read_user(request: StarletteRequest) -> Response:
        user = await floor.user(request.path_params["user_id"])
        return _json(NOT_FOUND, 404) if user is None else _json(user)

    async def list_posts(request: StarletteRequest) -> Response:
        params = request.query_params
        return _json(await floor.posts(int(params.get("limit", 100)), params.get("q")))

    async def create_item(request: StarletteRequest) -> Response:
        return _created(await floor.create_item(request.headers.get("authorization"), await request.body()))

    routes = [
        Route("/users/{user_id:int}", read_user),
        Route("/posts/", list_posts),
        Route("/items/", create_item, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=_lifespan(floor))


APPS = {"fastapi": "tests.bench.floors:fastapi_app", "starlette": "tests.bench.floors:starlette_app"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    run(APPS[args.app], Settings(), workers=args.workers)


if __name__ == "__main__":
    main()
