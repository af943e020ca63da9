"""What clients send and receive for users. A password goes in; nothing of it comes out."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from api.http.pagination import Page
from api.resources.users.names import normalized_email, normalized_username

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"  # no '@': a login name is a username or an email


def _nfkc(value: object) -> object:
    return normalized_username(value) if isinstance(value, str) else value


def _email(value: str) -> str:
    return normalized_email(value)


# The normalisation (api/resources/users/names.py) runs before the pattern is checked.
Username = Annotated[
    str,
    StringConstraints(pattern=USERNAME_PATTERN),
    BeforeValidator(_nfkc),
    Field(
        description="3 to 32 letters, digits, '_', '.' or '-' (after Unicode NFKC); unique regardless of case "
        "and of look-alike characters: lily, LILY, Iily and 1ily are one name.",
        examples=["ann"],
    ),
]
Email = Annotated[
    str,
    AfterValidator(_email),
    Field(
        max_length=254,
        json_schema_extra={"format": "email"},
        description="A bare address, unique regardless of case. Addresses at reserved domains that never "
        "receive mail (.test, .invalid, .localhost, .local …) are refused, and so are parts that mix "
        "scripts (a Cyrillic letter among Latin ones).",
        examples=["ann@example.com"],
    ),
]
# OWASP: at least 8 characters, long passphrases allowed, a cap so hashing cost stays bounded.
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=128),
    Field(description="8 to 128 characters.", json_schema_extra={"format": "password", "writeOnly": True}),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    username: Username
    password: Password


class UserPublic(BaseModel):
    """A user as anyone may see them."""

    id: int
    username: str
    created_at: datetime


class UserPrivate(UserPublic):
    """A user as they see themselves."""

    email: str


class UserUpdate(TypedDict, total=False):
    """The fields to change; a field left out stays as it is. Changing the email or the
    password needs the current password."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    email: Email
    username: Username
    password: Password
    current_password: Annotated[str, StringConstraints(max_length=128)]


class UsersPublic(Page[UserPublic]):
    pass


# A typed dict, not a model: every post of a page carries one, and building a model for
# each would cost a third of the time it takes to validate the page.
class Author(TypedDict):
    """A user as a post shows its author."""

    id: int
    username: str
