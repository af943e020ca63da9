"""A shorter road through each request for the routes it can serve exactly as FastAPI does.

FastAPI reads a route's parameters and solves its dependencies with general machinery it
walks on every request: two exit stacks, an endpoint context, alias lookups, a dependency
tree solved recursively. For this service's routes that is most of the CPU a request costs
besides its SQL (see `make bench`). `lean_app` plans that work once per route, from what
FastAPI itself built for it (the route as included, with its router's dependencies), so the
values and the errors are FastAPI's own:

- parameters (path, query, header) are read by their aliases and validated field by field
  with FastAPI's own fields: the same values and the same errors, in the same order;
- dependencies are called as FastAPI calls them, each once per request;
- a JSON body is read and validated as FastAPI does;
- the endpoint returns a `Response`, which is sent as it is;
- errors are raised, and the app's exception handlers answer them, as for any route.

A route that needs anything else raises `Unsupported` here and keeps FastAPI's handler: a
dependency with `yield` or a sync one, forms, cookies, security scopes, parameter models, an
endpoint returning a model, and any route option but those FastAPI only uses for its
document (ROUTE_OPTIONS_FOR_THE_DOCUMENT), `max_body_size` and `strict_content_type` among
the ones that fall back.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, RouteContext
from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.fastpath.compat import (
    Dependant,
    ModelField,
    embed_body_fields,
    field_annotation_is_sequence,
    get_missing_field_error,
)

Errors = list[dict[str, Any]]

# What a request offers each kind of parameter; cookies are not read here (see module doc).
SOURCES: dict[str, Callable[[Request], Any]] = {
    "path": lambda request: request.path_params,
    "query": lambda request: request.query_params,
    "header": lambda request: request.headers,
}

# APIRoute's options that change nothing of how a request is answered once the endpoint
# returns a Response: they shape the OpenAPI document, the matching (path, methods) or the
# dependencies, which are planned here. Any other option set away from its default keeps
# FastAPI's handler.
ROUTE_OPTIONS_FOR_THE_DOCUMENT = frozenset(
    {
        "path", "endpoint", "response_model", "status_code", "tags", "dependencies", "summary",
        "description", "response_description", "responses", "deprecated", "name", "methods",
        "operation_id", "include_in_schema", "dependency_overrides_provider", "callbacks",
        "openapi_extra", "generate_unique_id_function", "response_class",
        # Only a 'response_model' serialization reads these, and the endpoint returns a Response.
        "response_model_include", "response_model_exclude", "response_model_by_alias",
        "response_model_exclude_unset", "response_model_exclude_defaults", "response_model_exclude_none",
    }
)  # fmt: skip


class Unsupported(Exception):
    """The route needs something the lean path does not do: FastAPI's handler serves it."""


# Defaults FastAPI would deep-copy for each request, which need no copy.
IMMUTABLE = (type(None), bool, int, float, str, bytes)


class Param:
    """One parameter (or the body): where it is read, and how FastAPI validates it."""

    __slots__ = ("alias", "default", "field", "loc", "many", "required", "shared_default", "validate_default")

    def __init__(self, field: ModelField, loc: tuple[str, ...]) -> None:
        self.field = field
        self.alias = field.alias
        self.loc = loc
        self.many = field_annotation_is_sequence(field.field_info.annotation)  # every value of a repeated key
        self.required = field.field_info.is_required()
        self.default = None if self.required else field.default
        self.shared_default = type(self.default) in IMMUTABLE
        self.validate_default = field.field_info.validate_default

    def read(self, received: Any) -> Any:
        alias = self.alias
        if self.many and isinstance(received, QueryParams | Headers):
            values = received.getlist(alias)
            return values if values else PydanticUndefined
        # Asked first: Starlette's get() finds a missing key by catching a KeyError, and most
        # of a list's parameters are missing from most requests.
        if alias not in received:
            return PydanticUndefined
        value = received[alias]
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
    kinds = (("path", dependant.path_params), ("query", dependant.query_params), ("header", dependant.header_params))
    sources = [(SOURCES[kind], _params(fields, kind)) for kind, fields in kinds]
    return Plan(
        params=tuple((source, params) for source, params in sources if params),
        dependencies=tuple(dependencies),
        request_names=tuple(
            name for name in (dependant.request_param_name, dependant.http_connection_param_name) if name
        ),
    )


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
        raise  # a body over the limit (api/http/body_limit.py), answered as such
    except Exception as error:
        raise HTTPException(400, "There was an error parsing the body") from error


def _defaults() -> dict[str, Any]:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(APIRoute.__init__).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def _same(value: Any, default: Any) -> bool:
    """FastAPI marks a default it fills in later as DefaultPlaceholder; compare what it holds."""
    return bool(getattr(value, "value", value) == getattr(default, "value", default))


def _check_options(route: RouteContext) -> None:
    """Refuse any route option FastAPI's handler would act on and the lean path does not."""
    for name, default in _defaults().items():
        if name in ROUTE_OPTIONS_FOR_THE_DOCUMENT:
            continue
        # The route as included holds the options merged from its routers; the route as
        # declared, the ones only it carries (form limits).
        value = getattr(route, name, getattr(route.original_route, name, default))
        if not _same(value, default) and not (name == "form_limits" and not value):
            raise Unsupported(f"the route option {name}={value!r}")
    if route.is_sse_stream or route.is_json_stream:
        raise Unsupported("a streaming endpoint")


def _body(route: RouteContext) -> Param | None:
    fields = route.dependant.body_params
    if not fields:
        return None
    if len(fields) > 1 or embed_body_fields(route):
        raise Unsupported("an embedded or multi-part body")
    if isinstance(fields[0].field_info, params.Form | params.File):
        raise Unsupported("a form body")
    return Param(fields[0], ("body",))


def lean_app(route: RouteContext) -> ASGIApp:
    """The route's request path, planned once; Unsupported when FastAPI's handler must serve it."""
    if not isinstance(route.original_route, APIRoute):
        raise Unsupported("not a FastAPI route")
    endpoint = route.endpoint
    if endpoint is None or not _is_async(endpoint):
        raise Unsupported("a sync endpoint: FastAPI runs it in a thread")
    _check_options(route)
    returns = inspect.signature(endpoint).return_annotation
    if not (inspect.isclass(returns) and issubclass(returns, Response)):
        raise Unsupported("an endpoint returning a model (or unannotated): FastAPI serializes it")
    endpoint_plan = plan(route.dependant)
    body = _body(route)

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
        await response(scope, receive, send)

    return app
