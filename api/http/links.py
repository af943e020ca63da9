"""OpenAPI links: from a new resource to what can be done with it, read from the routes.

A create (a 201 from `POST /{name}/`) links to every operation on `/{name}/{…_id}` and
below it, with the new id from its body; each of those links to the others with the id
from its own path. Where the answer's `ETag` is a version of the target's resource, a
change or delete is linked with it as `If-Match`, and a GET that may answer 304 twice:
once plainly, and once with it as `If-None-Match`. Clients (and schemathesis's stateful phase)
follow these to walk real resources: create, read, revalidate, change, delete, read again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi.routing import RouteContext

COLLECTION = re.compile(r"^/([a-z_]+)/$")
MEMBER = re.compile(r"^/(?P<name>[a-z_]+)/\{(?P<param>[a-z_]+_id)\}(/.*)?$")


def _success(route: RouteContext, document: dict[str, Any], method: str) -> dict[str, Any] | None:
    responses = document["paths"][(route.path_format or "")][method.lower()]["responses"]
    found: dict[str, Any] | None = responses.get(str(route.status_code or 200))
    return found


def _responses(route: RouteContext, document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][(route.path_format or "")].get("get", {}).get("responses", {})
    return found


def _takes(route: RouteContext, method: str, document: dict[str, Any], header: str) -> bool:
    operation = document["paths"][route.path_format or ""][method.lower()]
    return any(p["in"] == "header" and p["name"] == header for p in operation.get("parameters", ()))


def _body_schema(response: dict[str, Any] | None) -> Any:
    return (response or {}).get("content", {}).get("application/json", {}).get("schema")


def _link(route: RouteContext, method: str, param: str, source: str, document: dict[str, Any]) -> dict[str, Any]:
    operation = document["paths"][(route.path_format or "")][method.lower()]
    return {
        "operationId": operation["operationId"],
        "parameters": {param: source},
        "description": f"{method} {(route.path_format or '')} on the same {param.removesuffix('_id')}.",
    }


def declare(document: dict[str, Any], routes: Iterable[RouteContext]) -> dict[str, Any]:
    """Links on every create's and member operation's success. `routes`: the app's operations."""
    api_routes = list(routes)
    members: dict[str, list[tuple[RouteContext, str, str]]] = {}
    for route in api_routes:
        if match := MEMBER.match(route.path_format or ""):
            for method in sorted(route.methods or ()):
                members.setdefault(match["name"], []).append((route, method, match["param"]))

    def targets(name: str, source_of: str, skip: tuple[RouteContext, str] | None, tagged: Any) -> dict[str, Any]:
        found = {}
        for route, method, param in members.get(name, ()):
            if skip == (route, method):
                continue
            source = source_of.format(param=param)
            found[f"{route.name}"] = link = _link(route, method, param, source, document)
            # The source's ETag is a version of what the target reads, changes or deletes.
            current = tagged is not None and tagged == _body_schema(_responses(route, document).get("200"))
            if current and _takes(route, method, document, "If-Match"):
                link["parameters"]["header.If-Match"] = "$response.header.ETag"
                link["description"] += " Only if it is still the version just received (else a 412)."
            if method == "GET" and current and "304" in _responses(route, document):
                revalidate = _link(route, method, param, source, document)
                revalidate["parameters"]["header.If-None-Match"] = "$response.header.ETag"
                revalidate["description"] += " With the ETag just received: a 304 while it is unchanged."
                found[f"{route.name}_unchanged"] = revalidate
        return found

    for route in api_routes:
        for method in sorted(route.methods or ()):
            success = _success(route, document, method)
            if success is None:
                continue
            # An ETag the target GET may answer 304 to: one of the same representation.
            tagged = _body_schema(success) if "ETag" in success.get("headers", {}) else None
            if method == "POST" and route.status_code == 201 and (match := COLLECTION.match(route.path_format or "")):
                found = targets(match[1], "$response.body#/id", None, tagged)
            elif match := MEMBER.match(route.path_format or ""):
                found = targets(match["name"], "$request.path.{param}", (route, method), tagged)
            else:
                continue
            if found:
                success.setdefault("links", {}).update(found)
    return document
