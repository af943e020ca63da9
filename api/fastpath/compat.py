"""Every private name of a library that the accelerator uses, and nowhere else in the project.

Imported only once api/fastpath/versions.py found the installed releases to be the tested
ones (versions.TESTED): on any other release a name here may be gone or mean something
else, and the accelerator stays off instead. tests/test_fastpath.py checks that no module
outside api/fastpath/ imports a private name.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from fastapi import FastAPI
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_missing_field_error  # type: ignore[attr-defined]  # not in __all__
from fastapi.routing import APIRouter
from starlette._utils import get_route_path

__all__ = [
    "FILES_STACK",
    "Dependant",
    "ModelField",
    "embed_body_fields",
    "field_annotation_is_sequence",
    "get_missing_field_error",
    "get_route_path",
    "own_routes_version",
    "routers_under",
    "telemetry_enabled",
]

# Where FastAPI's handlers find the exit stack they close uploaded files on (its
# AsyncExitStackMiddleware puts it there).
FILES_STACK = "fastapi_middleware_astack"


def telemetry_enabled(app: FastAPI) -> bool:
    """FastAPI's own OpenTelemetry is on: its layers then have work to do."""
    return bool(app._native_telemetry.enabled())


# A number FastAPI raises whenever a router's own routes change (including a router being
# included in it): an attribute read, where _get_routes_version() walks every included router.
own_routes_version = attrgetter("_routes_version")


def routers_under(router: APIRouter) -> list[APIRouter]:
    """The router and every router included in it, at any depth."""
    found = [router]
    for route in router.routes:
        included = getattr(route, "original_router", None)  # FastAPI's _IncludedRouter
        if isinstance(included, APIRouter):
            found.extend(routers_under(included))
    return found


def embed_body_fields(route: Any) -> bool:
    """Whether FastAPI reads the body as an object holding each body parameter by name."""
    return bool(route._embed_body_fields)
