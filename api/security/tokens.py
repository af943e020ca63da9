"""Who is asking: opaque bearer tokens and the current user.

A token is 256 random bits handed out once; PostgreSQL keeps only its SHA-256 (a fast hash
is enough for a secret that long), with an expiry. Revoking is deleting the row, so a
token stops working on the next request.
"""

import hashlib
import secrets
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from api.data.db import Db
from api.data.registry import queries
from api.http.errors import Unauthorized
from api.resources.users.schemas import UserPrivate

USER_BY_TOKEN = queries.one("auth/user_by_token", UserPrivate)

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def bearer_token(token: Annotated[str | None, Depends(bearer)]) -> str:
    if not token:
        raise Unauthorized("This needs a bearer token: sign in at /auth/token.", headers={"WWW-Authenticate": "Bearer"})
    return token


BearerToken = Annotated[str, Depends(bearer_token)]


async def current_user(token: BearerToken, db: Db) -> UserPrivate:
    user = await db.run(USER_BY_TOKEN, token_hash(token))
    if user is None:
        raise Unauthorized(
            "The token is invalid, expired or revoked.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return user


CurrentUser = Annotated[UserPrivate, Depends(current_user)]
