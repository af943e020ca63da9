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
import math
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Generic, NamedTuple, TypeVar
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.http.preferences import prefers
from api.resources.fields import CANONICAL_BOOL, CANONICAL_INT, MAX_JSON_INT

T = TypeVar("T")

MAX_LIMIT = 100
OPAQUE = r"^[A-Za-z0-9_-]+$"  # what encode() hands out: base64url without padding
PREFER_COUNT = "count=exact"


class Position(BaseModel):
    """Where a page ended: the last row's id, and its rank in a search."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1, le=MAX_JSON_INT)
    rank: float | None = Field(default=None, ge=0)

    @field_validator("rank")
    @classmethod
    def _a_real(cls, rank: float | None) -> float | None:
        """A rank is PostgreSQL's `real` (float32), as ts_rank gave it: one that is not
        exactly a float32 came from no page, and the database would refuse it."""
        if rank is not None and (not math.isfinite(rank) or _as_real(rank) != rank):
            raise ValueError("not a rank this service handed out")
        return rank


def _as_real(value: float) -> float:
    try:
        (real,) = struct.unpack("f", struct.pack("f", value))
    except OverflowError:
        return math.nan
    return float(real)


def encode(position: Position) -> str:
    written = position.__pydantic_serializer__.to_json(position, exclude_none=True)  # model_dump_json's, as bytes
    return base64.urlsafe_b64encode(written).rstrip(b"=").decode()


def _decode(cursor: str | None) -> Position | None:
    """A cursor is valid only in the exact form this service hands out: base64 decoding skips
    stray characters (a space, a newline), so the position is encoded again and compared."""
    if cursor is None:
        return None
    try:
        position = Position.model_validate_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, ValidationError):
        position = None
    if position is None or encode(position) != cursor:
        raise ValueError("not a cursor this service handed out")
    return position


if TYPE_CHECKING:
    Cursor = Position | None  # what a handler gets: the query string's cursor, decoded
else:
    Cursor = Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=OPAQUE,
            description="Where to continue: the previous page's `cursor` (also in its `next` link), exactly "
            "as it was handed out. Opaque: its form is the service's own and may change; any other value "
            "is a 422.",
            examples=["eyJpZCI6NDJ9"],
        ),
        AfterValidator(_decode),
    ]
Skip = Annotated[
    int, Query(ge=0, le=MAX_JSON_INT, description="How many rows to skip (after the cursor, if any)."), CANONICAL_INT
]
Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"How many rows to return, at most {MAX_LIMIT}."), CANONICAL_INT
]
Count = Annotated[
    bool,
    Query(description="Also count every matching row (as does the header `Prefer: count=exact`)."),
    CANONICAL_BOOL,
]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next: str | None = Field(description="The next page's URL (also in the Link header); null on the last page.")
    cursor: str | None = Field(
        description="The next page's cursor alone, to send back as `cursor` with the same query; null on the "
        "last page. Opaque: neither its form nor its length is a promise."
    )
    count: int | None = Field(
        default=None, description="How many rows match in all; only when asked for (`?count=true`)."
    )


class Paged(NamedTuple, Generic[T]):
    """A page's rows, and how to ask for the next: its link, its bare cursor, the headers."""

    data: list[T]
    next: str | None
    cursor: str | None
    headers: dict[str, str]


# A parsed query value as the next link carries it; None and False are the value left out.
QueryValue = str | int | bool | Sequence[str] | None


def page_of(
    request: Request, rows: Sequence[T], limit: int, position: Callable[[T], Position], path: str, **kept: QueryValue
) -> Paged[T]:
    """The page's rows (of limit + 1 fetched), its next link and cursor, and the Link header.

    The link is relative, as RFC 8288 allows: the same request with a cursor instead of any
    skip. A URL built from the Host header would be wrong behind a proxy, and a lure for
    whoever sets that header. It is built from parsed values only, never from the raw
    request: `path` is the list's path as the handler spells it from its parsed parameters,
    and the query is `limit` and the handler's other parsed parameters (`kept`), each
    written in its canonical form. The raw query string is never copied: a value FastAPI
    did not read (the first of a repeated key, a key the route does not declare) could
    otherwise ride along. The cursor also goes alone, so a client (a generated one above
    all) can follow pages by passing it back, without parsing a URL."""
    if len(rows) <= limit:
        return Paged(list(rows), None, None, {})
    shown = list(rows[:limit])
    cursor = encode(position(shown[-1]))
    query = [("limit", str(limit)), *_written(kept)]
    # The cursor is base64url, with nothing to escape: appended as it is.
    next_url = f"{request.scope.get('root_path', '')}{path}?{urlencode([*query, ('cursor', '')])}{cursor}"
    return Paged(shown, next_url, cursor, {"Link": f'<{next_url}>; rel="next"'})


def _written(kept: dict[str, QueryValue]) -> list[tuple[str, str]]:
    """Each parsed value as the query string spells it: `true`, digits, text, a list repeated."""
    pairs: list[tuple[str, str]] = []
    for name, value in kept.items():
        if value is None or value is False:
            continue
        if value is True:
            pairs.append((name, "true"))
        elif isinstance(value, int | str):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, each) for each in value)
    return pairs


def count_wanted(request: Request, asked: bool, headers: dict[str, str]) -> bool:
    """A count costs a second statement over every matching row: only when the client asks
    (`?count=true`, or `Prefer: count=exact`, answered in headers). Every list may answer
    differently by `Prefer`, so every list says so (`Vary`)."""
    headers["Vary"] = "Prefer"
    sent = request.headers
    # `in` first: Starlette's get() finds a header that is not there by catching a KeyError.
    if "prefer" in sent and prefers(sent.getlist("prefer"), "count", "exact"):
        headers["Preference-Applied"] = PREFER_COUNT
        return True
    return asked
