"""The headers of the contract: every response header the service sends, declared in the
OpenAPI document on each operation and status that sends it, and the request headers it
reads from outside a handler's signature.

Most are placed by rules read from what the code does, so a new route is declared without
being listed: every answer carries `X-Request-ID` (api/http/edge.py); a 401 carries
`WWW-Authenticate`, a 429 and a 503 `Retry-After` (api/http/errors.py); an answer made from
a model carries its `ETag` (api/http/representation.py), and a GET that has one may answer
304 to `If-None-Match` (api/http/conditional.py); a 201 carries `Location`; a POST that takes
`Idempotency-Key` may replay with `Idempotent-Replayed` (api/http/idempotency.py); a page
(api/http/pagination.py) carries `Link`, `Vary: Prefer` and, asked with `Prefer`,
`Preference-Applied`.

What a single route sends of its own is declared beside the code that sends it, with
`responses=sends(200, HEADERS_IT_SENDS)`. A new header is added to `RESPONSE_HEADERS` once;
one sent on every answer also goes in `EVERY_ANSWER`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi.routing import RouteContext
from pydantic import BaseModel

from api.http.conditional import ENTITY_TAG, ENTITY_TAGS, KEPT_ON_304
from api.http.pagination import PREFER_COUNT, Page
from api.http.preferences import PREFERENCES

# Each response header the service may send: how the document describes it.
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id: the one sent, when it is sane, or a new one. Every log line "
        "of the request carries it.",
        "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,128}$"},
    },
    "X-Content-Type-Options": {
        "description": "`nosniff`: a browser takes the answer as the type it says it is.",
        "schema": {"type": "string", "enum": ["nosniff"]},
    },
    "ETag": {
        "description": "A strong validator of this representation: send it back in `If-None-Match` "
        "(a 304 if unchanged) or in `If-Match` (a 412 if it changed meanwhile).",
        "schema": {"type": "string", "pattern": rf"^{ENTITY_TAG}$", "example": '"3f7a1c0e9b2d4a6f8e5c7b1a0d9e2f4c"'},
    },
    "Location": {
        "description": "The new resource, relative to the service's root.",
        "schema": {"type": "string", "format": "uri-reference", "example": "/items/42"},
    },
    "Link": {
        "description": 'The next page, as `<…>; rel="next"` (RFC 8288); absent on the last page.',
        "schema": {"type": "string", "example": '</items/?limit=20&cursor=eyJpZCI6NDJ9>; rel="next"'},
    },
    "Vary": {
        "description": "The request headers this answer depends on, for caches.",
        "schema": {"type": "string", "example": "Prefer"},
    },
    "Preference-Applied": {
        "description": f"`{PREFER_COUNT}` when `Prefer: {PREFER_COUNT}` was honoured (RFC 7240).",
        "schema": {"type": "string", "enum": [PREFER_COUNT]},
    },
    "Idempotent-Replayed": {
        "description": "`true` on the stored answer to an earlier request with the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": r"^[0-9]+$", "example": "1"},
    },
    "WWW-Authenticate": {
        "description": "The bearer scheme, and why the token was refused (RFC 6750).",
        "schema": {"type": "string", "example": 'Bearer error="invalid_token"'},
    },
    "Cache-Control": {
        "description": "What a cache may do with this answer.",
        "schema": {"type": "string", "example": "private"},
    },
    "Pragma": {
        "description": "`no-cache`, for HTTP/1.0 caches.",
        "schema": {"type": "string", "enum": ["no-cache"]},
    },
}

# Sent on every answer, whatever the operation and status (api/http/edge.py).
EVERY_ANSWER = ["X-Request-ID", "X-Content-Type-Options"]
# Sent on every answer of these statuses (api/http/errors.py, api/security/tokens.py).
BY_STATUS = {"401": ["WWW-Authenticate"], "429": ["Retry-After"], "503": ["Retry-After"]}

# The request headers read outside a handler's signature, declared as parameters where read.
# A value outside its pattern is ignored, not refused: no entity-tag matches it, and RFC 7240
# has a server ignore what it does not understand.
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` of the representation the client holds (or a list of them, or `*`): "
    "unchanged, the answer is a 304 with no body. Entity-tags it does not recognise (or cannot "
    "parse) are not a match.",
    "schema": {"type": "string", "pattern": ENTITY_TAGS, "example": '"3f7a1c0e9b2d4a6f8e5c7b1a0d9e2f4c"'},
}
PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": f"`{PREFER_COUNT}`: also count every matching row, as `count=true` does "
    "(answered with `Preference-Applied`). Other preferences, and a value that is no preference "
    "list, are ignored (RFC 7240).",
    "schema": {"type": "string", "pattern": PREFERENCES, "example": PREFER_COUNT},
}


def sends(status: int, headers: Mapping[str, str], *, always: bool = True) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that sends these headers (their values as examples) with status;
    `always=False` where only some answers of that status carry them."""
    declared = {name: {**RESPONSE_HEADERS[name], "required": always} for name in headers}
    for name, value in headers.items():
        declared[name] = {**declared[name], "schema": {**declared[name]["schema"], "example": value}}
    return {status: {"headers": declared}}


def also_sending(
    responses: Mapping[int | str, dict[str, Any]], headers: Mapping[str, str], *statuses: int, always: bool = True
) -> dict[int | str, dict[str, Any]]:
    """`responses` (say, `problems(429)`) with these headers declared on these statuses too."""
    combined = dict(responses)
    for status in statuses:
        declared = sends(status, headers, always=always)[status]["headers"]
        response = combined.get(status, {})
        combined[status] = {**response, "headers": {**response.get("headers", {}), **declared}}
    return combined


def _declare(response: dict[str, Any], names: Iterable[str], *, required: bool) -> None:
    headers = response.setdefault("headers", {})
    for name in names:
        headers.setdefault(name, {**RESPONSE_HEADERS[name], "required": required})


def _answers_with_a_model(route: RouteContext) -> bool:
    """Its success answer is made from a model, by representation.json, which adds an ETag."""
    model = route.response_model
    return isinstance(model, type) and issubclass(model, BaseModel) and route.status_code != 204


def _is_page(route: RouteContext) -> bool:
    model = route.response_model
    return isinstance(model, type) and issubclass(model, Page)


def _takes_header(route: RouteContext, name: str) -> bool:
    return any(param.alias == name for param in route.dependant.header_params)


# What a route's success answer carries beyond EVERY_ANSWER: (applies?, headers, always sent?).
SUCCESS_RULES: list[tuple[Callable[[RouteContext], bool], list[str], bool]] = [
    (_answers_with_a_model, ["ETag"], True),
    (lambda route: route.status_code == 201, ["Location"], True),
    (lambda route: _takes_header(route, "Idempotency-Key"), ["Idempotent-Replayed"], False),
    (_is_page, ["Vary"], True),
    (_is_page, ["Link", "Preference-Applied"], False),
]


def _not_modified(success: dict[str, Any]) -> dict[str, Any]:
    """The 304 a GET's success may become: no body, and what it keeps of the 200's headers."""
    kept = {name: spec for name, spec in success.get("headers", {}).items() if name.lower().encode() in KEPT_ON_304}
    return {
        "description": "Not Modified: the `ETag` sent in `If-None-Match` is still current; no body.",
        "headers": kept,
    }


def declare(document: dict[str, Any], routes: Iterable[RouteContext]) -> dict[str, Any]:
    """Place every response header on the operations and statuses that send it, the 304s on
    the GETs that may answer one, and the request headers each reads outside its signature.
    `routes`: the app's operations (api/http/openapi.py)."""
    for route in routes:
        for method in sorted(route.methods or ()):
            operation = document["paths"][(route.path_format or "")][method.lower()]
            responses = operation["responses"]
            success = responses.get(str(route.status_code or 200))
            if success is not None:
                for applies, names, required in SUCCESS_RULES:
                    if applies(route):
                        _declare(success, names, required=required)
            parameters = operation.setdefault("parameters", [])
            if _is_page(route):
                parameters.append(PREFER)
            if method == "GET" and success is not None and "ETag" in success.get("headers", {}):
                parameters.append(IF_NONE_MATCH)
                responses.setdefault("304", _not_modified(success))
            if not parameters:
                del operation["parameters"]
            for status, response in responses.items():
                _declare(response, BY_STATUS.get(status, ()), required=True)
                _declare(response, EVERY_ANSWER, required=True)
    return document
