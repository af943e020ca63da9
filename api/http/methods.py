"""HEAD wherever GET works, OPTIONS everywhere, and redirects that never name a host.

RFC 9110 asks for HEAD wherever GET is served: the same status and headers, no body. The
edge (api/http/edge.py) hands the app a GET and sends the answer without its body, so a HEAD
costs what a GET does and can never disagree with it. An OPTIONS request is answered 204 with
`Allow`, the methods the app's routes serve at the path: the published operations, and what
the document leaves out (`/metrics`, `/docs`, `/openapi.json`, the static files under
`/docs/assets/`); a CORS preflight (an OPTIONS with `Access-Control-Request-Method`) is left
to the CORS layer inside.

Starlette's trailing-slash redirect builds an absolute `Location` from the `Host` header,
which any client sets; the edge keeps its path and query only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.responses import Response
from starlette.routing import Mount, compile_path
from starlette.staticfiles import StaticFiles

PREFLIGHT = b"access-control-request-method"
LOCATION = b"location"
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """The methods served at this path, for `Allow`: every matching route's (the router takes
    the first that fits the method too), HEAD beside GET, and OPTIONS; None where no route is."""
    served: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "served_methods", None)
    if served is None:
        served = app.state.served_methods = list(_served(app))
    methods = {method for pattern, offered in served if pattern.match(path) for method in offered}
    return _allow(methods) if methods else None


def _served(app: FastAPI) -> Iterator[tuple[re.Pattern[str], set[str]]]:
    """Each route's path pattern and methods; a mount of static files serves reads of what is
    below it. (A route without methods, an ASGI app of its own, states none to offer.)"""
    for route in iter_route_contexts(app.routes):
        mounted = route.original_route
        if isinstance(mounted, Mount) and isinstance(mounted.app, StaticFiles):
            yield compile_path(f"{mounted.path}/{{path:path}}")[0], {"GET"}
        elif route.path is not None and route.methods:
            yield compile_path(route.path)[0], set(route.methods)


def _allow(methods: set[str]) -> str:
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods | {"OPTIONS"}))


def options(app: FastAPI, path: str) -> Response | None:
    """The 204 for an OPTIONS request, or None when no route is there (the app's 404)."""
    allow = allowed_methods(app, path)
    return None if allow is None else Response(status_code=204, headers={"Allow": allow})


def relative_location(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A redirect's headers with its Location cut to path and query."""
    kept = []
    for name, value in headers:
        if name == LOCATION:
            parts = urlsplit(value.decode("latin-1"))
            value = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)).encode("latin-1")
        kept.append((name, value))
    return kept
