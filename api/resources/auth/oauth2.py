"""The token endpoint's errors as OAuth2 clients read them (RFC 6749 section 5.2).

A failed sign-in is a 400 with `{"error": "invalid_grant", "error_description": …}`, a
malformed form `invalid_request`, another grant type than `password`
`unsupported_grant_type`: a client library (authlib, an OAuth2 SDK) raises on these, where
it would take a problem document for a token. Every answer of the endpoint carries
`Cache-Control: no-store`. What is not an OAuth2 error keeps its problem details: the
throttle's 429 with `Retry-After`, a 503, a body over the size limit.
"""

from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from api.http.errors import ApiError
from api.http.representation import JSON, body_of

# RFC 6749 5.1: a token answer, or an error in its place, is never cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

ErrorCode = Literal["invalid_request", "invalid_grant", "unsupported_grant_type"]


class OAuth2ErrorBody(BaseModel):
    """RFC 6749 section 5.2."""

    error: ErrorCode = Field(
        description="invalid_grant: wrong username, email or password; invalid_request: a field is missing "
        "or malformed; unsupported_grant_type: grant_type is not password.",
        examples=["invalid_grant"],
    )
    error_description: str = Field(examples=["Wrong username, email or password."])


class OAuth2Error(Exception):
    def __init__(self, error: ErrorCode, description: str) -> None:
        super().__init__(description)
        self.body = OAuth2ErrorBody(error=error, error_description=description)

    def response(self) -> Response:
        return Response(body_of(self.body), 400, NO_STORE, media_type=JSON)


def _from_validation(exc: RequestValidationError) -> OAuth2Error:
    fields = [str(error["loc"][-1]) for error in exc.errors() if error.get("loc")]
    if "grant_type" in fields:
        return OAuth2Error("unsupported_grant_type", "Only grant_type=password is supported.")
    named = ", ".join(sorted(set(fields) - {"body"})) or "the form"
    return OAuth2Error("invalid_request", f"Missing or malformed: {named}.")


class OAuth2Route(APIRoute):
    """A route answering its errors as RFC 6749 does (FastAPI's custom route class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def oauth2_errors(request: Request) -> Response:
            try:
                response = await handle(request)
            except RequestValidationError as exc:
                return _from_validation(exc).response()
            except OAuth2Error as exc:
                return exc.response()
            except ApiError as exc:  # the throttle's 429, hashing's 503: problem details, never cached
                exc.headers = {**(exc.headers or {}), **NO_STORE}
                raise
            return response

        return oauth2_errors
