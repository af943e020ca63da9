"""HEAD wherever GET works, OPTIONS everywhere, and redirects that never name a host.

RFC 9110 asks for HEAD wherever GET is served: the same status and headers, no body. The
edge (api/http/edge.py) hands the app a GET and sends the answer without its body, so a HEAD
costs what a GET does and can never disagree with it. An OPTIONS request is answered 204 with
`Allow`, the methods the OpenAPI document offers at the path; a CORS preflight (an OPTIONS
with `Access-Control-Request-Method`) is left to the CORS layer inside.

Starlette's trailing-slash redirect builds an absolute `Location` from the `Host` header,
which any client sets; the edge keeps its path and query only.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI
from starlette.responses import Response
from starlette.routing import compile_path

PREFLIGHT = b"access-control-request-method"
LOCATION = b"location"
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """The methods offered at this path, for `Allow`: the document's, HEAD beside GET, and
    OPTIONS; None for a path the document does not name."""
    published: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "published_methods", None)
    if published is None:
        published = app.state.published_methods = [
            (compile_path(template)[0], _allow({method.upper() for method in operations}))
            for template, operations in app.openapi()["paths"].items()
        ]
    return next((methods for pattern, methods in published if pattern.match(path)), None)


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
