"""The OpenAPI document, the service's contract: every error a route can answer, as the
problem details it really sends, every header (api/http/headers.py), the links a client
follows from a new resource (api/http/links.py), and the schemas described in the DBA's
own words.

Routes declare their error statuses with `problems(404, 409)`, each with an example of what
that status means here. FastAPI files any response model under `application/json`; the
document is then rewritten once so that every 4xx and 5xx body is
`application/problem+json`, the content type errors.py sends.

A parameter a client may leave out is published as its type alone, not `T | null`: a
header or a query string cannot carry a JSON null, and generators would send the text
"null". Each tag is described by its router's module docstring.

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
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from api.data.table_comments import comments
from api.http import consistency, cross_origin, headers, links
from api.http.errors import PROBLEM_JSON, Problem, ValidationProblem, title

DESCRIPTIONS = {
    400: "The body could not be read: not valid JSON, or not UTF-8",
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


# What each status means here, as a client would meet it.
EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"detail": "The body is not valid JSON."},
    401: {"detail": "The token is invalid, expired or revoked."},
    403: {"detail": "Only the owner of item 42 may change it."},
    404: {"detail": "There is no item 42."},
    409: {"detail": "That email is already taken.", "field": "email"},
    412: {"detail": "The item 42 changed since that version; read it again."},
    413: {"detail": "The request body is larger than 1048576 bytes."},
    422: {
        "detail": "The request is not valid: 1 error.",
        "errors": [
            {
                "loc": ["body", "price"],
                "msg": "Input should be greater than or equal to 0",
                "type": "greater_than_equal",
            }
        ],
    },
    429: {"detail": "Too many failed password checks from this address; wait and try again."},
    503: {"detail": "The database is unavailable; retry shortly."},
}

# What any route that reads a body may answer besides its own errors.
BODY = (400, 413)


def _example(status: int) -> dict[str, Any]:
    return {"type": "about:blank", "title": title(status), "status": status, **EXAMPLES[status]}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router that may answer with these error statuses."""
    return {
        status: {
            "model": ValidationProblem if status == 422 else Problem,
            "description": DESCRIPTIONS[status],
            "content": {"application/json": {"example": _example(status)}},
        }
        for status in statuses
    }


SERVERS = [{"url": "/", "description": "This service, wherever it is served: every link it sends is relative too."}]


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


def _is_problem(media: dict[str, Any] | None) -> bool:
    """A problem document's schema; an error of another shape (OAuth2's, at the token
    endpoint) keeps its own media type."""
    if media is None:
        return False
    ref = media.get("schema", {}).get("$ref", "")
    return not ref or ref.rsplit("/", 1)[-1] in {Problem.__name__, ValidationProblem.__name__}


FASTAPIS_422 = "HTTPValidationError"


def _without_fastapis_422(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a 422 of its own shape on any route that declares none. Every route
    here that answers 422 declares its problem (`problems(422)`); one that answers validation
    errors otherwise (the token endpoint, as OAuth2's 400) never sends FastAPI's."""
    for path in document["paths"].values():
        for operation in path.values():
            response = operation.get("responses", {}).get("422", {})
            ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            if ref.endswith(f"/{FASTAPIS_422}"):
                del operation["responses"]["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in (FASTAPIS_422, "ValidationError"):  # the second, its items, is FastAPI's too
        if f"#/components/schemas/{name}'" not in str(document):
            schemas.pop(name, None)
    return document


def _errors_as_problems(document: dict[str, Any]) -> dict[str, Any]:
    for path in document["paths"].values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and _is_problem(content.get("application/json")):
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


SET_COOKIE = (
    f"With CONSISTENCY_COOKIE on: `{consistency.COOKIE}`, the same token for a browser to send back "
    f"with its reads (HttpOnly, SameSite=Lax, {consistency.COOKIE_MAX_AGE} s)."
)


def _consistency_declared(document: dict[str, Any], cookie: bool = False) -> dict[str, Any]:
    """The consistency token (api/http/consistency.py): a header every read may send, and one
    any answer to a write may carry (and the cookie, when on): whatever its status, a write
    may have committed something first, as sign-in counts an attempt before it checks the
    password. The edge handles it for all routes alike."""
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
                for response in operation.get("responses", {}).values():
                    sent = response.setdefault("headers", {})
                    sent[consistency.HEADER_NAME] = {"description": ON_WRITES, "schema": {"type": "string"}}
                    if cookie:
                        sent["Set-Cookie"] = {"description": SET_COOKIE, "schema": {"type": "string"}}
    return document


CROSS_ORIGIN = "a write from a browser page on an origin not in CORS_ORIGINS"


def _cross_origin_writes_refused(document: dict[str, Any]) -> dict[str, Any]:
    """The edge answers 403 to a write from a page on another origin, before any route runs
    (api/http/cross_origin.py): declared on every write, beside the owner's 403 where there is one."""
    for path in document["paths"].values():
        for method, operation in path.items():
            if method not in WRITES:
                continue
            responses = operation.setdefault("responses", {})
            if "403" in responses:
                responses["403"]["description"] += f"; or {CROSS_ORIGIN}"
                continue
            example = {**_example(403), "detail": cross_origin.DETAIL}
            responses["403"] = {
                "description": CROSS_ORIGIN[0].upper() + CROSS_ORIGIN[1:],
                "content": {
                    PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{Problem.__name__}"}, "example": example}
                },
            }
    return document


def _optional_is_absent(document: dict[str, Any]) -> dict[str, Any]:
    """`T | None` parameters published as `T`: leaving one out is how a client says None."""
    for path in document["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", ()):
                schema = parameter["schema"]
                kinds = schema.get("anyOf", ())
                if not parameter.get("required") and {"type": "null"} in kinds and len(kinds) == 2:
                    kept = next(kind for kind in kinds if kind != {"type": "null"})
                    parameter["schema"] = {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept}
    return document


def operations(app: FastAPI) -> list[RouteContext]:
    """Every route the document publishes, as mounted (with its router's prefix and options)."""
    return [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.include_in_schema
    ]


def tags(app: FastAPI) -> list[dict[str, Any]]:
    """Every tag of the app's routes, described by the docstring of the module that routes it
    (its first paragraph); the app's own `openapi_tags` come first and win."""
    found = {tag["name"]: tag for tag in app.openapi_tags or ()}
    for route in operations(app):
        said = inspect.getdoc(inspect.getmodule(route.endpoint)) or ""
        for tag in route.tags:
            if isinstance(tag, str):
                found.setdefault(tag, {"name": tag, "description": " ".join(said.split("\n\n")[0].split())})
    return list(found.values())


def install(app: FastAPI, server_timing: bool = True, consistency_cookie: bool = False) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=tags(app),
                servers=app.servers or SERVERS,
            )
            document = _optional_is_absent(_errors_as_problems(_without_fastapis_422(document)))
            document = _cross_origin_writes_refused(document)
            published = operations(app)
            document = links.declare(headers.declare(document, published), published)
            document = _consistency_declared(_described_by_the_dba(document), consistency_cookie)
            app.openapi_schema = _server_timing_on_every_answer(document) if server_timing else document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
