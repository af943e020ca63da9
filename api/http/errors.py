"""Every error the service answers with, as RFC 9457 problem details.

    Exception
     ├── ApiError                        raised by handlers; its status and detail go out as is
     │    ├── Unauthorized               401 + WWW-Authenticate
     │    ├── Forbidden                  403
     │    ├── NotFound                   404
     │    ├── Conflict                   409
     │    ├── PreconditionFailed         412 (If-Match names an old version)
     │    ├── TooManyRequests            429 + Retry-After
     │    └── ServiceUnavailable         503 + Retry-After
     ├── RequestValidationError          422, listing the offending fields;
     │                                   400 when the body is not JSON at all
     ├── starlette HTTPException         its own status (404 unknown path, 405, 413 body too large …)
     ├── asyncpg.PostgresError
     │    ├── UniqueViolationError       409 naming the field, read from the constraint's name
     │    ├── ForeignKeyViolationError   409
     │    ├── CheckViolation, NotNull,
     │    │   DataError (22xxx)          422: a value the database refuses
     │    └── unreachable, restarting,
     │        overloaded, timed out      503 + Retry-After
     ├── asyncpg.InterfaceError, OSError 503 + Retry-After (the connection went away)
     └── anything else                   500, logged with the request id; the body says nothing
                                         more (api/http/edge.py catches it)

A body never carries a stack trace, SQL, or the driver's own words: the client learns what
it can act on, the log keeps the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar, cast

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ExceptionHandler

from api.config import Settings
from api.http.methods import allowed_methods
from api.observability.metrics import count_database_error

PROBLEM_JSON = "application/problem+json"
UNREADABLE_JSON = "json_invalid"  # the error type FastAPI gives a body that does not parse

E = TypeVar("E", bound=Exception)


class Problem(BaseModel):
    """RFC 9457 problem details: what went wrong, for people (detail) and programs (status)."""

    type: str = Field(examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["There is no item 42."])


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query or path, then the field.")
    msg: str
    type: str


class ValidationProblem(Problem):
    errors: list[FieldError]


log = logging.getLogger("api.http.errors")


class ApiError(Exception):
    status: int = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


class Unauthorized(ApiError):
    status = HTTPStatus.UNAUTHORIZED


class Forbidden(ApiError):
    status = HTTPStatus.FORBIDDEN


class NotFound(ApiError):
    status = HTTPStatus.NOT_FOUND


class Conflict(ApiError):
    status = HTTPStatus.CONFLICT


class PreconditionFailed(ApiError):
    status = HTTPStatus.PRECONDITION_FAILED


class TooManyRequests(ApiError):
    status = HTTPStatus.TOO_MANY_REQUESTS


class ServiceUnavailable(ApiError):
    status = HTTPStatus.SERVICE_UNAVAILABLE


# RFC 9110's names, where Python's http module still has RFC 7231's.
PHRASES = {413: "Content Too Large", 422: "Unprocessable Content", 416: "Range Not Satisfiable"}


def title(status: int) -> str:
    return PHRASES.get(status) or HTTPStatus(status).phrase


def problem(status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extensions: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title(status), "status": status, "detail": detail}
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def internal_error(request_id: str) -> JSONResponse:
    return problem(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "The server failed to answer this request; it has been logged.",
        request_id=request_id,
    )


# Database errors that mean "not now", not "never": the client may retry.
UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # 08: the connection failed or went away
    asyncpg.InsufficientResourcesError,  # 53: too many connections, out of memory or disk
    asyncpg.OperatorInterventionError,  # 57: shutting down, starting up, statement timeout
    asyncpg.LockNotAvailableError,  # 55P03: lock_timeout
    asyncpg.TransactionRollbackError,  # 40: serialization failure, deadlock
    asyncpg.IdleInTransactionSessionTimeoutError,  # 25P03
    asyncpg.InterfaceError,  # the client side of a lost connection
    asyncpg.exceptions.InternalClientError,  # a connection whose protocol lost its place as it died
    OSError,  # refused or reset while (re)connecting
)

# Database errors caused by the value a client sent.
REFUSED_VALUES = (asyncpg.CheckViolationError, asyncpg.NotNullViolationError, asyncpg.DataError)


def constraint_field(error: asyncpg.IntegrityConstraintViolationError) -> str | None:
    """`users_email_key` on table `users` names the field `email` (migrations name constraints so)."""
    name: str | None = error.constraint_name
    table: str | None = error.table_name
    if not name or not table or not name.startswith(f"{table}_"):
        return None
    field = name.removeprefix(f"{table}_")
    for suffix in ("_key", "_fkey", "_check"):
        field = field.removesuffix(suffix)
    return field


def described(exc: BaseException) -> str:
    """What a log line may say about a database error: its class, SQLSTATE and constraint.

    Never its message or DETAIL, which quote the failing row (a key, a hash, an answer's
    body): no log line carries request or row data."""
    parts = [type(exc).__name__]
    if sqlstate := getattr(exc, "sqlstate", None):
        parts.append(f"sqlstate={sqlstate}")
    if constraint := getattr(exc, "constraint_name", None):
        parts.append(f"constraint={constraint}")
    return " ".join(parts)


def _handle(app: FastAPI, error_class: type[E], handler: Callable[[Request, E], Awaitable[JSONResponse]]) -> None:
    """Starlette types every handler as taking any Exception; it calls one only with its class."""
    app.add_exception_handler(error_class, cast(ExceptionHandler, handler))


def install(app: FastAPI, settings: Settings) -> None:
    """Register the handlers that turn each kind of error into its problem."""
    retry_after = {"Retry-After": str(settings.retry_after)}

    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = exc.headers
        if isinstance(exc, ServiceUnavailable):
            headers = {**retry_after, **(headers or {})}
        return problem(exc.status, exc.detail, headers=headers, **exc.extensions)

    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e["type"] == UNREADABLE_JSON for e in exc.errors()):
            # Nothing in it could be checked: the body is unreadable (400), not invalid (422).
            return problem(HTTPStatus.BAD_REQUEST, "The body is not valid JSON.")
        # The input is not echoed back: it may be a password.
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        noun = "error" if len(errors) == 1 else "errors"
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY, f"The request is not valid: {len(errors)} {noun}.", errors=errors
        )

    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = exc.headers
        if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED and (
            allow := allowed_methods(request.app, request.url.path)
        ):
            headers = {**(headers or {}), "Allow": allow}
        return problem(exc.status_code, str(exc.detail), headers=headers)

    async def unique_violation(request: Request, exc: asyncpg.UniqueViolationError) -> JSONResponse:
        count_database_error("unique_violation", exc)
        field = constraint_field(exc)
        detail = f"That {field} is already taken." if field else "The request conflicts with existing data."
        return problem(HTTPStatus.CONFLICT, detail, field=field)

    async def foreign_key_violation(request: Request, exc: asyncpg.ForeignKeyViolationError) -> JSONResponse:
        count_database_error("foreign_key_violation", exc)
        return problem(HTTPStatus.CONFLICT, "The request refers to something that does not exist (any more).")

    async def refused_value(request: Request, exc: Exception) -> JSONResponse:
        # Validation should have caught it; answer as validation does, and log what slipped through.
        count_database_error("refused_value", exc)
        field = constraint_field(exc) if isinstance(exc, asyncpg.IntegrityConstraintViolationError) else None
        log.warning("database refused a value: %s", described(exc))
        error = {
            "loc": ["body", field] if field else ["body"],
            "msg": "Value refused by the database",
            "type": "database",
        }
        return problem(HTTPStatus.UNPROCESSABLE_ENTITY, "A value in the request is out of range.", errors=[error])

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        count_database_error("unavailable", exc)
        log.warning("database unavailable: %s", described(exc))
        return problem(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "The database is unavailable; retry shortly.",
            headers=retry_after,
        )

    _handle(app, ApiError, api_error)
    _handle(app, RequestValidationError, validation_error)
    _handle(app, StarletteHTTPException, http_error)
    _handle(app, asyncpg.UniqueViolationError, unique_violation)
    _handle(app, asyncpg.ForeignKeyViolationError, foreign_key_violation)
    for refused in REFUSED_VALUES:
        _handle(app, refused, refused_value)
    for failure in UNAVAILABLE:
        _handle(app, failure, unavailable)
