"""The OpenAPI document: every error a route can answer, as the problem details it really
sends, and the schemas described in the DBA's own words.

Routes declare their error statuses with `problems(404, 409)`. FastAPI files any response
model under `application/json`; the document is then rewritten once so that every 4xx and
5xx body is `application/problem+json`, the content type errors.py sends.

A schema declared in `api/resources/<table>/schemas.py` speaks of that table: each field
named like one of its columns takes the column's comment (COMMENT ON, in the migrations)
unless it has a description of its own, and a schema with such a field takes the table's
comment as its description. A new resource is described without being listed anywhere.
"""

import importlib
import inspect
import pkgutil
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.data.table_comments import comments
from api.http import consistency
from api.http.errors import PROBLEM_JSON, Problem, ValidationProblem

DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8, or not the declared content type)",
    401: "No valid bearer token: sign in at /auth/token",
    403: "Not yours: only its owner may do this",
    404: "Not found",
    409: "Conflicts with data already there",
    412: "If-Match names a version that is no longer current: read it again",
    413: "The request body is larger than the service accepts",
    422: "The request is not valid; `errors` lists each offending field",
    429: "Too many attempts; wait `Retry-After` seconds",
    503: "The database is unavailable; retry after `Retry-After` seconds",
}


# What any route that reads a body may answer besides its own errors.
BODY = (400, 413)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router that may answer with these error statuses."""
    return {
        status: {"model": ValidationProblem if status == 422 else Problem, "description": DESCRIPTIONS[status]}
        for status in statuses
    }


RESOURCES = "api.resources"


@cache
def schema_tables() -> dict[str, str]:
    """Each schema class declared in a resource's schemas module, and the resource's table."""
    package = importlib.import_module(RESOURCES)
    found = {}
    for resource in pkgutil.iter_modules(package.__path__):
        if not resource.ispkg:
            continue
        try:
            module = importlib.import_module(f"{RESOURCES}.{resource.name}.schemas")
        except ModuleNotFoundError:
            continue  # a resource with nothing of its own to send or receive
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                found[name] = resource.name
    return found


def _described_by_the_dba(document: dict[str, Any]) -> dict[str, Any]:
    said = comments()
    for name, table in schema_tables().items():
        schema = document.get("components", {}).get("schemas", {}).get(name)
        if schema is None or table not in said:
            continue
        columns = [field for field in schema.get("properties", {}) if f"{table}.{field}" in said]
        if columns:
            schema.setdefault("description", said[table])
        for field in columns:
            schema["properties"][field].setdefault("description", said[f"{table}.{field}"])
    return document


def _errors_as_problems(document: dict[str, Any]) -> dict[str, Any]:
    for path in document["paths"].values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return document


# api/http/edge.py puts it on every answer unless SERVER_TIMING is off.
SERVER_TIMING = "Server-Timing"
SERVER_TIMING_HEADER = {
    "description": "Milliseconds this request spent in the database and waiting for a connection "
    "(browsers' devtools show them); absent when the service runs with SERVER_TIMING=false.",
    "required": True,
    "schema": {"type": "string", "pattern": r"^db;dur=\d+\.\d\d, pool;dur=\d+\.\d\d$"},
    "example": "db;dur=3.41, pool;dur=0.02",
}


def _server_timing_on_every_answer(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {}).setdefault("headers", {})[SERVER_TIMING] = SERVER_TIMING_HEADER
    for path in document["paths"].values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})[SERVER_TIMING] = {"$ref": f"#/components/headers/{SERVER_TIMING}"}
    return document


WRITES = ("post", "patch", "put", "delete")
SENT_SCHEMA = {"type": "string", "examples": [consistency.token(0x1_6B37_4D28)]}
ON_READS = (
    "The `Consistency-Token` of an earlier write's answer: with a read replica, this read is "
    "served by it only once it has replayed that write (else by the primary), so it sees the "
    "write. Opaque; one the service did not make is ignored."
)
ON_WRITES = (
    "With a read replica: the position of the write this request committed. Send it back on "
    "reads (the header, or the `consistency_token` cookie when the service sets one) to see it."
)


def _consistency_declared(document: dict[str, Any]) -> dict[str, Any]:
    """The consistency token (api/http/consistency.py): a header every read may send, and one
    every write's successful answer may carry. The edge handles it for all routes alike."""
    for path in document["paths"].values():
        for method, operation in path.items():
            if method == "get":
                operation.setdefault("parameters", []).append(
                    {
                        "name": consistency.HEADER_NAME,
                        "in": "header",
                        "required": False,
                        "description": ON_READS,
                        "schema": SENT_SCHEMA,
                    }
                )
            elif method in WRITES:
                for status, response in operation.get("responses", {}).items():
                    if status[0] == "2":
                        response.setdefault("headers", {})[consistency.HEADER_NAME] = {
                            "description": ON_WRITES,
                            "schema": {"type": "string"},
                        }
    return document


def install(app: FastAPI, server_timing: bool = True) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = _consistency_declared(
                _described_by_the_dba(
                    _errors_as_problems(
                        get_openapi(
                            title=app.title,
                            version=app.version,
                            description=app.description,
                            routes=app.routes,
                            tags=app.openapi_tags,
                        )
                    )
                )
            )
            app.openapi_schema = _server_timing_on_every_answer(document) if server_timing else document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
