"""Field and path types every resource shares."""

import re
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator, Field, StringConstraints

# The largest integer every JSON client reads exactly (JavaScript's Number.MAX_SAFE_INTEGER),
# well inside PostgreSQL's bigint: larger ids and prices are refused at the door.
MAX_JSON_INT = 2**53 - 1

# PostgreSQL text cannot hold NUL, so it is refused here, never by the database.
NO_NUL = r"^[^\x00]*$"
# ... and a name or title must have something in it besides white space.
NO_NUL_NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"


# These return what goes inside Annotated[...], not a type: a type checker takes a function's
# result for a value, never for a type, so `Annotated[str, stored_text(1, 200)]` is spelled out.
def stored_text(min_length: int, max_length: int, *, blank: bool = True) -> StringConstraints:
    """For a str stored exactly as sent: bounded, without NUL, and (blank=False) not only white space."""
    return StringConstraints(
        min_length=min_length, max_length=max_length, pattern=NO_NUL if blank else NO_NUL_NOT_BLANK
    )


def _json_number(value: object) -> object:
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number, not a boolean or a string")
    return value


# With json_int_range before it: an int that is a JSON integer (156 or 156.0), not a boolean
# or a numeric string, which Python would coerce.
JSON_NUMBER = BeforeValidator(_json_number)


def json_int_range(minimum: int, description: str) -> Any:
    """For an int from minimum to MAX_JSON_INT, followed by JSON_NUMBER. (Constraints come
    before the validator, or the published schema would lose them.)"""
    return Field(ge=minimum, le=MAX_JSON_INT, description=description)


# Path and query values in their one canonical form, or a 422: pydantic reads "01", "+1",
# "1_0" (10), " 1", "1\n" and "1.0" as integers, and "yes", "on", "1" or "TRUE" as true, so
# one resource had many URLs, and raw text a client sent could flow into a link or a header.
CANONICAL_INTEGER = re.compile(r"0|[1-9][0-9]*")  # ASCII digits; [0-9], not \d, which is any script's
CANONICAL_BOOLEAN = ("true", "false")


def _canonical_integer(value: object) -> object:
    if isinstance(value, str) and not CANONICAL_INTEGER.fullmatch(value):
        raise ValueError("must be an integer in digits, without sign, leading zeros, separators or spaces")
    return value


def _canonical_boolean(value: object) -> object:
    if isinstance(value, str) and value not in CANONICAL_BOOLEAN:
        raise ValueError("must be true or false")
    return value


CANONICAL_INT = BeforeValidator(_canonical_integer)
"""For an int read from a path or query string: digits only, no leading zero."""
CANONICAL_BOOL = BeforeValidator(_canonical_boolean)
"""For a bool read from a query string: `true` or `false`, nothing else."""

PathId = Annotated[int, Path(ge=1, le=MAX_JSON_INT, description="The id."), CANONICAL_INT]
