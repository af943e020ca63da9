"""Types every resource's schemas share."""

from typing import Annotated

from pydantic import Field, StringConstraints

# PostgreSQL's bigint: ids and prices beyond it are refused at the door, not by the driver.
INT8_MAX = 2**63 - 1

# PostgreSQL text cannot hold NUL; refusing it here keeps the database error from ever happening.
NO_NUL = r"^[^\x00]*$"


def text(min_length: int, max_length: int, *, strip: bool = False) -> type[str]:
    """A string the database will store as given: bounded, without NUL."""
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL, strip_whitespace=strip),
    ]


Id = Annotated[int, Field(ge=1, le=INT8_MAX)]
