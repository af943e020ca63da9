"""The router's front door: a request finds its route by its path's first segment, and a
route the lean path serves (api/fastpath/routes.py) is answered without FastAPI's handler.

FastAPI's router tries every route in turn, through each included router, and a request for
the last of twenty pays for nineteen misses. `Accelerated` tries only the routes that can
match the path's first segment, in the router's order. The first that fully matches is the
one FastAPI would take: if the lean path serves it, it does; otherwise, and for whatever it
finds no route for (a 404, a 405, a path that redirects to its trailing slash), FastAPI's
router answers as it always has. It also does while `app.dependency_overrides` holds anything,
so overrides work as FastAPI documents them.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from fastapi import FastAPI
from fastapi.routing import APIRouter, RouteContext, iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from api.fastpath.compat import FILES_STACK, get_route_path, own_routes_version, routers_under
from api.fastpath.routes import Unsupported, lean_app
from api.fastpath.writer import orjson_bytes
from api.http.representation import writer

log = logging.getLogger("api.fastpath")


def _first_segment(path: str) -> str:
    return path[1:].partition("/")[0]


def segment_of(template: str | None) -> str | None:
    """The first segment of every path a route template matches, or None when it may match many.

    A template's text before its first parameter is literal: past a second '/', its first
    segment is that of every path it matches; with no parameter at all, it matches only itself.
    A Mount's template ends in '/{path}', so it is read the same way."""
    if not isinstance(template, str) or not template.startswith("/"):
        return None
    literal, brace, _ = template.partition("{")
    if "/" in literal[1:] or not brace:
        return _first_segment(literal)
    return None


class Candidate:
    """A route as the router tries it, and its lean app if the lean path serves it."""

    __slots__ = ("context", "lean", "matches", "route")

    def __init__(self, context: RouteContext, lean: ASGIApp | None) -> None:
        self.context = context
        self.matches = context.matches  # the route as included: its full path and methods
        self.route = context.original_route  # what FastAPI puts in scope["route"]
        self.lean = lean


def _candidate(context: RouteContext) -> Candidate:
    try:
        return Candidate(context, lean_app(context))
    except Unsupported as reason:
        if getattr(context.original_route, "include_in_schema", False):
            log.debug("FastAPI serves %s %s: %s", sorted(context.methods or ()), context.path, reason)
        return Candidate(context, None)


class Accelerated:
    """FastAPI's router behind the index (module doc)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.router = app.router
        self._versions: list[int] | None = None  # None: not indexed yet
        self._routers: list[APIRouter] = []
        self._by_segment: dict[str, list[Candidate]] = {}
        self._anywhere: list[Candidate] = []

    def _current(self) -> bool:
        return list(map(own_routes_version, self._routers)) == self._versions

    def index(self) -> None:
        """Plan every route, by first segment; again whenever any router's routes change."""
        self._routers = routers_under(self.router)
        self._versions = list(map(own_routes_version, self._routers))
        candidates = [_candidate(context) for context in iter_route_contexts(self.router.routes)]
        segment_of_each = [(candidate, segment_of(candidate.context.path_format)) for candidate in candidates]
        segments = {segment for _, segment in segment_of_each if segment is not None}
        self._by_segment = {
            segment: [candidate for candidate, its in segment_of_each if its in (segment, None)] for segment in segments
        }
        self._anywhere = [candidate for candidate, its in segment_of_each if its is None]

    def candidates(self, path: str) -> list[Candidate]:
        if not self._current():
            self.index()
        return self._by_segment.get(_first_segment(path), self._anywhere)

    def lean_routes(self) -> list[Candidate]:
        """Every route, whether or not the lean path serves it (for tests and the log)."""
        if not self._current():
            self.index()
        seen: dict[int, Candidate] = {}
        for candidates in [*self._by_segment.values(), self._anywhere]:
            for candidate in candidates:
                seen.setdefault(id(candidate), candidate)
        return list(seen.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = writer.set(orjson_bytes)
        try:
            if scope["type"] == "http" and not self.app.dependency_overrides:
                for candidate in self.candidates(get_route_path(scope)):
                    match, child_scope = candidate.matches(scope)
                    if match is Match.FULL:
                        if candidate.lean is None:
                            break  # FastAPI's route: its router finds it again
                        # What the router and the route put in the scope before the handler runs.
                        scope.setdefault("router", self.router)
                        scope.update(child_scope)
                        scope["route"] = candidate.route
                        await candidate.lean(scope, receive, send)
                        return
            async with AsyncExitStack() as files:  # FastAPI's handlers close uploads on it
                scope[FILES_STACK] = files
                await self.router(scope, receive, send)
        finally:
            writer.reset(token)
