"""Pages of a list: keyset cursors, the next page's link, and counts on request.

An offset makes the database walk past every skipped row, so page 1,000 costs a thousand
pages, and a row inserted meanwhile shifts every page after it. A cursor names the last
row a client saw; the next page starts after it through an index condition (`id < $1`),
so every page costs the same and inserts do not shift what the client walks through.
The cursor is opaque to clients: base64url of the position, not a promise of its form.

A page is fetched one row longer than asked for: that row only tells whether a next page
exists, so the last page links to nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request, Response
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from api.schemas.common import MAX_JSON_INT

T = TypeVar("T")

MAX_LIMIT = 100
PREFER_COUNT = "count=exact"


class Position(BaseModel):
    """Where a page ended: the last row's id, and its rank in a search."""

    id: int = Field(ge=1, le=MAX_JSON_INT)
    rank: float | None = None


def encode(position: Position) -> str:
    return base64.urlsafe_b64encode(position.model_dump_json(exclude_none=True).encode()).rstrip(b"=").decode()


def _decode(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    try:
        return Position.model_validate_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, ValidationError):
        raise ValueError("not a cursor this service handed out") from None


Cursor = Annotated[
    str | None,
    Query(max_length=200, description="Where to continue: the cursor in the previous page's `next` link."),
    AfterValidator(_decode),
]
Skip = Annotated[int, Query(ge=0, le=MAX_JSON_INT, description="How many rows to skip (after the cursor, if any).")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many rows to return, at most {MAX_LIMIT}.")]
Count = Annotated[bool, Query(description="Also count every matching row (as does the header `Prefer: count=exact`).")]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next: str | None = Field(description="The next page's URL (also in the Link header); null on the last page.")
    count: int | None = Field(
        default=None, description="How many rows match in all; only when asked for (`?count=true`)."
    )


def page_of(
    request: Request, response: Response, rows: Sequence[T], limit: int, position: Callable[[T], Position]
) -> tuple[list[T], str | None]:
    """The page's rows and its next link, set as the Link header too (rows holds limit + 1 at most)."""
    if len(rows) <= limit:
        return list(rows), None
    shown = list(rows[:limit])
    cursor = encode(position(shown[-1]))
    next_url = str(request.url.remove_query_params("skip").include_query_params(cursor=cursor))
    response.headers["Link"] = f'<{next_url}>; rel="next"'
    return shown, next_url


def count_wanted(request: Request, response: Response, asked: bool) -> bool:
    """A count costs a second statement over every matching row: only when the client asks."""
    if PREFER_COUNT in request.headers.get("prefer", ""):
        response.headers["Preference-Applied"] = PREFER_COUNT
        return True
    return asked
