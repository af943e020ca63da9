"""The accelerator: the same answers as stock FastAPI, for less CPU, where it is tested.

Stock FastAPI is the reference: `FAST_PATH=off` serves every request through FastAPI's own
stack, router and handlers. With the accelerator on, an app builds, at its first request:

- a short middleware stack without FastAPI's layers that would do nothing here (stack.py);
- a route index that finds a request's route by its first path segment (index.py);
- a planned request path for each route it can serve as FastAPI would (routes.py), and
  FastAPI's own handler for every other route, every 404 and 405, and every request while
  `app.dependency_overrides` holds anything;
- orjson writing the bytes pydantic-core would write (writer.py).

Everything here that reaches into a library's internals goes through compat.py, which is
imported only when versions.py finds the installed FastAPI, Starlette and Pydantic to be the
tested releases. `FAST_PATH=auto` (the default) then turns the accelerator on, and otherwise
serves on stock FastAPI and says why in one log line; `FAST_PATH=on` refuses to start on any
other release. tests/test_fastpath.py sends every route's requests through both and requires
the same status, headers and body.
"""

from __future__ import annotations

import logging
from types import MethodType
from typing import Literal

from fastapi import FastAPI
from starlette.types import ASGIApp

from api.fastpath.versions import untested

log = logging.getLogger("api.fastpath")

Mode = Literal["auto", "on", "off"]


class UntestedVersions(RuntimeError):
    """FAST_PATH=on, and an installed library is not a release the accelerator was tested with."""


def install(app: FastAPI, mode: Mode) -> bool:
    """Put the accelerator on the app, as `mode` says; True if it is on."""
    if mode == "off":
        return False
    outside = untested()
    if outside:
        if mode == "on":
            raise UntestedVersions(f"FAST_PATH=on, but the accelerator was not tested with {'; '.join(outside)}")
        log.warning("serving on stock FastAPI: the accelerator was not tested with %s", "; ".join(outside))
        return False
    from api.fastpath import stack  # imports the private names, now known to be there

    stock = app.build_middleware_stack

    def build_middleware_stack(self: FastAPI) -> ASGIApp:
        # Built at the first request, once every route, middleware and handler is in place.
        refused = stack.short_stack_refused(self)
        if refused is not None:
            log.warning("serving on stock FastAPI: %s", refused)
            return stock()
        return stack.short_stack(self)

    app.build_middleware_stack = MethodType(build_middleware_stack, app)  # type: ignore[method-assign]
    return True


def accelerated(app: FastAPI) -> bool:
    """Whether the accelerator serves this app's requests (known once it served one)."""
    return getattr(app.state, "accelerated", None) is not None
