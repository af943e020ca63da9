"""Conditional requests (RFC 9110, section 13): ETags, If-None-Match on reads, If-Match on writes.

Every answer made from a model carries a strong ETag, a hash of its bytes (api/http/representation.py).
A GET or HEAD whose If-None-Match names the ETag of what it would answer gets 304 and no body;
api/http/edge.py asks `not_modified` only for requests that carry the header.
A PATCH or DELETE sent with If-Match runs in a transaction that first locks the row and
compares its ETag now with the one sent: another version is a 412 and nothing changes.
Locking makes the check and the write one step, so clients that read, modify and write
back concurrently lose no update: all but one get a 412, read again and retry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Header
from starlette.types import Message

from api.data.db import Session
from api.data.registry import Statement
from api.http.errors import NotFound, PreconditionFailed
from api.http.representation import body_of, etag

IF_NONE_MATCH = b"if-none-match"
# What a 304 keeps of the 200 it stands for (RFC 9110, 15.4.5), beside any X-Request-ID and
# the CORS headers: without them a browser page on another origin sees its 304 as a failed fetch.
KEPT_ON_304 = {b"etag", b"cache-control", b"content-location", b"date", b"expires", b"vary", b"x-request-id"}
CORS_PREFIX = b"access-control-"


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",")]


def none_match_fails(header: str, current: str) -> bool:
    """If-None-Match compares weakly: W/"x" stands for "x"."""
    return header.strip() == "*" or current in (tag.removeprefix("W/") for tag in _tags(header))


def match_holds(header: str, current: str) -> bool:
    """If-Match compares strongly: a weak tag never matches."""
    return header.strip() == "*" or current in _tags(header)


# An entity-tag as RFC 9110 (8.8.3) writes one, optionally weak, and a header's list of them.
ENTITY_TAG = r'(W/)?"[\x21\x23-\x7e]*"'
ENTITY_TAGS = rf"^(\*|{ENTITY_TAG}( *, *{ENTITY_TAG})*)$"

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        pattern=ENTITY_TAGS,
        description="The `ETag` of the version the change is based on (or `*`, any version); another "
        "version is a 412 and nothing changes. Not an entity-tag list: a 422.",
        examples=['"3f7a1c0e9b2d4a6f8e5c7b1a0d9e2f4c"'],
    ),
]


@asynccontextmanager
async def unchanged_since(
    db: Session, if_match: str | None, current: Statement[Any], resource_id: int, what: str
) -> AsyncIterator[None]:
    """Run the block as is without If-Match; with it, in a transaction that first checks,
    under a lock, that the resource is still at the version the client names."""
    if if_match is None:
        yield
        return
    async with db.transaction():
        row = await db.run(current, resource_id)
        if row is None:
            raise NotFound(f"There is no {what}.")
        if not match_holds(if_match, etag(body_of(row))):
            raise PreconditionFailed(f"The {what} changed since that version; read it again.")
        yield


def not_modified(start: Message, wanted: bytes) -> Message | None:
    """The 304 that stands for this answer's start, if it is a 200 whose ETag the request's
    If-None-Match names (api/http/edge.py then sends no body); None otherwise."""
    if start["status"] != 200:
        return None
    current = dict(start.get("headers", ())).get(b"etag")
    if not current or not none_match_fails(wanted.decode("latin-1"), current.decode("latin-1")):
        return None
    kept = [(name, value) for name, value in start["headers"] if name in KEPT_ON_304 or name.startswith(CORS_PREFIX)]
    return {"type": "http.response.start", "status": 304, "headers": kept}
