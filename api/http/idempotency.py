"""Idempotency-Key on POST, as the IETF httpapi draft has it: a retry gets the first answer.

A POST sent with `Idempotency-Key` runs in one transaction that also stores its answer
under the key (scoped to the user, or to anonymous sign-ups), so the write and its record
commit together or not at all: a crash before COMMIT leaves neither, and the retry writes;
a retry after COMMIT finds the record and gets the original status, body and Location,
marked `Idempotent-Replayed: true`, without a second write. While the first request is in
flight, the key is held by a transaction-scoped advisory lock: a retry then gets a 409 at
once rather than waiting. The same key with a different request (method, path, body) is a
422. Answers are kept IDEMPOTENCY_TTL_SECONDS (a day by default); an expired key is new.

Sign-in is not covered: its answer is a token, and the service never stores a token, only
its hash. Signing out is safe to repeat as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel

from api.data.db import Session
from api.data.registry import queries
from api.http.errors import Conflict
from api.http.representation import JSON, body_of, etag, json

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


class StoredAnswer(BaseModel):
    request_hash: bytes
    status_code: int
    response_body: bytes
    response_headers: dict[str, str]


CLAIM = queries.value("idempotency/claim", bool)
GET = queries.one("idempotency/get", StoredAnswer)
SAVE = queries.nothing("idempotency/save")


def _unquoted(key: str | None) -> str | None:
    """The draft sends the key as a structured-field string ("…"); a bare token is taken too."""
    return key[1:-1] if key and len(key) >= 2 and key[0] == key[-1] == '"' else key


# Printable ASCII but '"', 1 to 255 of them (what the table's check allows), bare or in a pair
# of quotes: the pattern admits exactly the keys the store takes, so a key it would refuse is a
# 422 at the header, never a database error.
KEY_PATTERN = r'^(?:"[\x21\x23-\x7e]{1,255}"|[\x21\x23-\x7e]{1,255})$'
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        pattern=KEY_PATTERN,
        description="Any unique string (a UUID, say), sent again with a retry of this request to get the "
        "first answer instead of a second write. Kept 24 hours, per user.",
    ),
]

Write = Callable[[], Awaitable[tuple[BaseModel, dict[str, str]]]]

USER_SCOPE = "user:"


def user_scope(user_id: int) -> str:
    """The keys of one signed-in user."""
    return f"{USER_SCOPE}{user_id}"


def _owner(scope: str, model: BaseModel, owner_of: Callable[[BaseModel], int] | None) -> int | None:
    """The account a stored answer belongs to, deleted with it: the scope's user, or the one
    `owner_of` reads from the answer (the account a sign-up made)."""
    if owner_of is not None:
        return owner_of(model)
    return int(scope.removeprefix(USER_SCOPE)) if scope.startswith(USER_SCOPE) else None


async def answer_once(
    db: Session,
    request: Request,
    key: str | None,
    scope: str,
    status: int,
    write: Write,
    *,
    owner_of: Callable[[BaseModel], int] | None = None,
) -> Response:
    """Run `write` (which returns the created resource and the headers to send with it) and
    answer with `status`: once per key, if a key was sent. The stored answer goes with its
    account (`owner_of`, or the scope's user) when that is deleted."""
    key = _unquoted(key)
    if key is None:
        model, headers = await write()
        return json(model, status, headers)

    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + await request.body()).digest()
    ttl = timedelta(seconds=request.app.state.settings.idempotency_ttl_seconds)
    async with db.transaction():
        if not await db.run(CLAIM, scope, key):
            raise Conflict("A request with this Idempotency-Key is still being answered; retry shortly.")
        stored = await db.run(GET, scope, key, ttl)
        if stored is not None:
            if stored.request_hash != fingerprint:
                raise RequestValidationError(
                    [{"loc": ("header", HEADER), "msg": "was sent before with a different request", "type": "reused"}]
                )
            headers = {**stored.response_headers, "ETag": etag(stored.response_body), REPLAYED: "true"}
            return Response(stored.response_body, stored.status_code, headers, media_type=JSON)
        model, headers = await write()
        body = body_of(model)
        await db.run(SAVE, scope, key, fingerprint, status, body, headers, ttl, _owner(scope, model, owner_of))
    return Response(body, status, {**headers, "ETag": etag(body)}, media_type=JSON)
