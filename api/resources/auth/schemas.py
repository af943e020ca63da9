"""Signing in: the OAuth2 password form that goes in, the bearer token that comes out,
and the rows the sign-in reads (internal: never sent to a client)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, JsonValue

from api.resources.fields import stored_text
from api.resources.users.schemas import Password


def _no_default(schema: dict[str, JsonValue]) -> None:
    schema.pop("default", None)


class SignInForm(BaseModel):
    """OAuth2's password grant, as Swagger UI's Authorize button sends it."""

    username: Annotated[str, stored_text(1, 254), Field(description="Username or email.")]
    password: Password
    grant_type: Literal["password"] | None = None
    # Left out is "", but the document does not say so: openapi-typescript takes a field with a
    # default for one every request must send (openapi-ts/openapi-typescript#1741).
    scope: str = Field(
        default="",
        max_length=1000,
        description="Not used: every token may do everything its user may.",
        json_schema_extra=_no_default,
    )


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token stops working.")


class Credentials(BaseModel):
    """Internal: the account a sign-in names."""

    id: int
    password_hash: str


class SignInAttempt(BaseModel):
    """Internal: the account's attempts in the current one-minute window."""

    attempts: int
    retry_after: int
