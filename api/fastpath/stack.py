"""The app's short stack: the user's middleware, its exception handlers, the index.

FastAPI wraps every app in layers of its own besides the user's middleware: its 500 page,
its telemetry hook, its app-wide body limit and an exit stack for uploaded files. Here they
would do nothing: api/http/edge.py answers unhandled errors and limits bodies, FastAPI's
telemetry is off, and `Accelerated` opens the exit stack for the routes FastAPI serves. Each
layer is a call per request; the short stack skips them, and `short_stack_refused` says when
one of them would have work to do, so that FastAPI's own stack is built instead.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp

from api.fastpath.compat import telemetry_enabled
from api.fastpath.index import Accelerated
from api.http.edge import EdgeMiddleware


def short_stack_refused(app: FastAPI) -> str | None:
    """Why FastAPI's own layers are needed for this app, or None when they would do nothing."""
    if getattr(app, "max_body_size", None) is not None:
        return "FastAPI's max_body_size is set (the body limit is MAX_BODY_BYTES)"
    if {500, Exception} & app.exception_handlers.keys():
        return "a handler for 500 or Exception is set (api/http/edge.py answers unhandled errors)"
    if telemetry_enabled(app):
        return "FastAPI's telemetry is on"
    if not app.user_middleware or app.user_middleware[0].cls is not EdgeMiddleware:  # type: ignore[comparison-overlap]
        return "EdgeMiddleware is not the outermost middleware (it answers unhandled errors)"
    return None


def short_stack(app: FastAPI) -> ASGIApp:
    index = app.state.accelerated = Accelerated(app)
    stack: ASGIApp = ExceptionMiddleware(index, handlers=app.exception_handlers, debug=app.debug)
    for cls, args, kwargs in reversed(app.user_middleware):
        stack = cls(stack, *args, **kwargs)
    return stack
