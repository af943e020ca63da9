"""FastAPI's routes, on a shorter road through each request; FastAPI's OpenAPI unchanged.

FastAPI reads a route's parameters and solves its dependencies with general machinery it
walks on every request: two exit stacks, an endpoint context, alias lookups, a dependency
tree solved recursively. For this service's routes that is most of the CPU a request costs
besides its SQL (see `make bench`). `LeanRoute` is an `APIRoute`, built by FastAPI from the
same signature, so the OpenAPI document and the validation rules are FastAPI's own; only the
per-request path is planned once, when the route is made:

- parameters (path, query, header) are read by their aliases and validated field by field
  with FastAPI's own fields: the same values and the same errors, in the same order;
- dependencies are called as FastAPI calls them, each once per request;
- a JSON body is read and validated as FastAPI does;
- the endpoint returns a `Response` (or nothing, for a 204), which is sent as it is;
- errors are raised, and the app's exception handlers answer them, as for any route.

A route that needs what this path does not do (dependencies with `yield`, sync functions,
forms, cookies, security scopes, parameter models, an endpoint returning a model) keeps
FastAPI's own handler: slower, never wrong. The lean path serves a route the app holds
itself (api/main.py); a route reached through `include_router` is served by FastAPI's own
handler, which is also what applies `app.dependency_overrides`.

`RouteIndex` finds the route: FastAPI's router tries every route in turn, and a request for
the last of twenty pays for nineteen misses. The index tries only the routes that can match
the path's first segment, in their order; whatever it does not find (a 404, a 405, a path
that redirects to its trailing slash) goes to FastAPI's router, which answers as it always has.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response, params
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_missing_field_error
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIRouter, _apply_router_form_limits, _route_selected, _update_scope
from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from starlette._utils import get_route_path
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send

Errors = list[dict[str, Any]]

# What a request offers each kind of parameter; cookies are not read here (see module doc).
SOURCES: dict[str, Callable[[Request], Any]] = {
    "path": lambda request: request.path_params,
    "query": lambda request: request.query_params,
    "header": lambda request: request.headers,
}


class Unsupported(Exception):
    """The route needs something the lean path does not do: FastAPI's handler serves it."""


# Defaults FastAPI would deep-copy for each request, which need no copy.
IMMUTABLE = (type(None), bool, int, float, str, bytes)


class Param:
    """One parameter (or the body): where it is read, and how FastAPI validates it."""

    __slots__ = ("default", "field", "loc", "many", "required", "shared_default", "validate_default")

    def __init__(self, field: ModelField, loc: tuple[str, ...]) -> None:
        self.field = field
        self.loc = loc
        self.many = field_annotation_is_sequence(field.field_info.annotation)  # every value of a repeated key
        self.required = field.field_info.is_required()
        self.default = None if self.required else field.default
        self.shared_default = type(self.default) in IMMUTABLE
        self.validate_default = field.field_info.validate_default

    def read(self, received: Any) -> Any:
        if self.many and isinstance(received, QueryParams | Headers):
            values = received.getlist(self.field.alias)
            return values if values else PydanticUndefined
        value = received.get(self.field.alias)
        return PydanticUndefined if value is None else value

    def validate(self, value: Any) -> tuple[Any, Errors]:
        """The value as FastAPI validates it: a missing one takes the default (unvalidated,
        as FastAPI does) or is a 'missing' error."""
        if value is PydanticUndefined:
            if self.required:
                return None, [get_missing_field_error(loc=self.loc)]
            value = self.default if self.shared_default else deepcopy(self.default)
            if not self.validate_default:
                return value, []
        return self.field.validate(value, {}, loc=self.loc)


@dataclass(frozen=True)
class Plan:
    """One dependant (the endpoint, or a dependency): what it takes from the request, and
    the dependencies to call before it, as (parameter name, call, their plan)."""

    params: tuple[tuple[Callable[[Request], Any], tuple[Param, ...]], ...]
    dependencies: tuple[tuple[str | None, Callable[..., Awaitable[Any]], Plan], ...]
    request_names: tuple[str, ...]  # its parameters typed Request or HTTPConnection

    async def solve(self, request: Request, cache: dict[Any, Any], errors: Errors) -> dict[str, Any]:
        """The keyword arguments; what is wrong goes to errors, as FastAPI collects it."""
        values: dict[str, Any] = {}
        for name, call, plan in self.dependencies:
            if call in cache:
                solved = cache[call]
            else:
                before = len(errors)
                arguments = await plan.solve(request, cache, errors)
                if len(errors) > before:
                    continue
                solved = cache[call] = await call(**arguments)
            if name is not None:
                values[name] = solved
        for source, wanted in self.params:
            received = source(request)
            for param in wanted:
                value, field_errors = param.validate(param.read(received))
                if field_errors:
                    errors.extend(field_errors)
                else:
                    values[param.field.name] = value
        for name in self.request_names:
            values[name] = request
        return values


def _is_async(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


def _params(fields: list[ModelField], kind: str) -> tuple[Param, ...]:
    for field in fields:
        annotation = field.field_info.annotation
        if not isinstance(field.field_info.validation_alias, str | None) or (
            inspect.isclass(annotation) and issubclass(annotation, BaseModel)
        ):
            raise Unsupported(f"{kind} parameter {field.name}: aliases and parameter models")
    return tuple(Param(field, (kind, field.alias)) for field in fields)


def plan(dependant: Dependant) -> Plan:
    if (
        dependant.cookie_params
        or dependant.websocket_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.parent_oauth_scopes
    ):
        raise Unsupported("cookies, websockets, responses, background tasks or security scopes")
    dependencies = []
    for sub in dependant.dependencies:
        if not _is_async(sub.call) or sub.scope not in (None, "request", "function") or not sub.use_cache:
            raise Unsupported(f"dependency {sub.call!r}: only plain async functions, cached per request")
        assert sub.call is not None
        dependencies.append((sub.name, sub.call, plan(sub)))
    sources = [(SOURCES[kind], _params(fields, kind)) for kind, fields in _kinds(dependant)]
    return Plan(
        params=tuple((source, params) for source, params in sources if params),
        dependencies=tuple(dependencies),
        request_names=tuple(
            name for name in (dependant.request_param_name, dependant.http_connection_param_name) if name
        ),
    )


def _kinds(dependant: Dependant) -> list[tuple[str, list[ModelField]]]:
    return [("path", dependant.path_params), ("query", dependant.query_params), ("header", dependant.header_params)]


def _is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").partition(";")[0].strip().lower()
    maintype, _, subtype = media_type.partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


async def read_json_body(request: Request) -> Any:
    """The body as FastAPI's handler reads it: JSON when labelled so, else its bytes (which
    then fail validation); nothing when empty."""
    try:
        body = await request.body()
        if not body:
            return PydanticUndefined
        return json.loads(body) if _is_json(request.headers.get("content-type")) else body
    except json.JSONDecodeError as error:
        invalid = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([{**invalid, "ctx": {"error": error.msg}}], body=error.doc) from error
    except HTTPException:
        raise  # a body over the limit (api.body_limit), answered as such
    except Exception as error:
        raise HTTPException(400, "There was an error parsing the body") from error


class LeanRoute(APIRoute):
    """An APIRoute whose requests take the lean path when it can serve them (module doc)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        # Most routes are told apart by their first characters: a request for /posts/ need
        # not run the pattern of every /users route before it.
        self.static_prefix = self.path_format.partition("{")[0]
        self.fastapi_app = self.app
        try:
            self.app = self.lean_app = self._lean_app()
            self.lean = True
        except Unsupported as reason:
            self.lean = False
            self.unsupported = str(reason)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not get_route_path(scope).startswith(self.static_prefix):
            return Match.NONE, {}
        return super().matches(scope)

    def _lean_app(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        if not _is_async(self.endpoint):
            raise Unsupported("a sync endpoint: FastAPI runs it in a thread")
        endpoint_plan = plan(self.dependant)
        body = self._body()
        returns = inspect.signature(self.endpoint).return_annotation
        if isinstance(returns, str):
            raise Unsupported("an endpoint's return annotation must be evaluated (no string annotations)")
        if returns is None and self.status_code == 204:
            empty: int | None = 204
        elif inspect.isclass(returns) and issubclass(returns, Response):
            empty = None
        else:
            raise Unsupported("an endpoint returning a model: FastAPI serializes it")
        endpoint = self.endpoint

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive, send)
            errors: Errors = []
            received = await read_json_body(request) if body is not None else PydanticUndefined
            values = await endpoint_plan.solve(request, {}, errors)
            if body is not None:
                value, body_errors = body.validate(received)
                errors.extend(body_errors)
                values[body.field.name] = value
            if errors:
                raise RequestValidationError(errors, body=None if received is PydanticUndefined else received)
            response = await endpoint(**values)
            if empty is not None and response is None:
                response = Response(status_code=empty)
            await response(scope, receive, send)

        return app

    def _body(self) -> Param | None:
        fields = self.dependant.body_params
        if not fields:
            return None
        if len(fields) > 1 or getattr(self, "_embed_body_fields", True):
            raise Unsupported("an embedded or multi-part body")
        if isinstance(fields[0].field_info, params.Form | params.File):
            raise Unsupported("a form body")
        return Param(fields[0], ("body",))


def _first_segment(path: str) -> str:
    return path[1:].partition("/")[0]


def _segment_of(route: BaseRoute) -> str | None:
    """The first segment of every path the route can match, or None when it may match many.

    A path template's text before its first parameter is literal: past a second '/', its first
    segment is that of every path it matches; with no parameter at all, it matches only itself.
    A Mount's template ends in '/{path}', so it is read the same way."""
    template = getattr(route, "path_format", None)
    if not isinstance(template, str) or not template.startswith("/"):
        return None
    literal, brace, _ = template.partition("{")
    if "/" in literal[1:] or not brace:
        return _first_segment(literal)
    return None


class RouteIndex:
    """The router's routes by the first segment of their path (module doc). Installed as the
    router's middleware stack, so FastAPI's router, itself unchanged, stays behind it."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.fallback = router.app
        self._indexed: list[BaseRoute] = []
        self._by_segment: dict[str, list[BaseRoute]] = {}
        self._anywhere: list[BaseRoute] = []

    def _candidates(self, path: str) -> list[BaseRoute]:
        routes = self.router.routes
        if routes != self._indexed:  # a route added since: index again (a list compares by item)
            self._index(routes)
        return self._by_segment.get(_first_segment(path), self._anywhere)

    def _index(self, routes: list[BaseRoute]) -> None:
        self._indexed = list(routes)
        segment_of = [(route, _segment_of(route)) for route in routes]
        segments = {segment for _, segment in segment_of if segment is not None}
        self._by_segment = {
            segment: [route for route, its in segment_of if its in (segment, None)] for segment in segments
        }
        self._anywhere = [route for route, its in segment_of if its is None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    # What FastAPI's router does with the first route that fully matches.
                    _apply_router_form_limits(scope, self.router.form_limits)
                    scope.setdefault("router", self.router)
                    _update_scope(scope, child_scope)
                    _route_selected(
                        scope=scope, path=getattr(route, "path_format", None), mount=isinstance(route, Mount)
                    )
                    await route.handle(scope, receive, send)
                    return
        await self.fallback(scope, receive, send)


def index_routes(router: APIRouter) -> None:
    """Put a RouteIndex in front of the router (which must have no middleware of its own)."""
    if router.middleware_stack != router.app:
        raise RuntimeError("the router has middleware of its own, which the index would skip")
    router.middleware_stack = RouteIndex(router)
