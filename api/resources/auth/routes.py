"""Signing in and out."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from api.data.db import Db
from api.data.registry import queries
from api.http.errors import TooManyRequests, Unauthorized
from api.http.headers import sends
from api.http.openapi import BODY, problems
from api.http.representation import json, no_content
from api.resources.auth.schemas import Credentials, SignInAttempt, SignInForm, Token
from api.security.passwords import PasswordsDep
from api.security.tokens import BearerToken, CurrentUser, new_token, token_hash

router = APIRouter(prefix="/auth", tags=["auth"], responses=problems(422, 503))

FIND_LOGIN = queries.one("auth/find_login", Credentials)
COUNT_ATTEMPT = queries.one("auth/count_attempt", SignInAttempt)
CREATE_TOKEN = queries.nothing("auth/create_token")
REVOKE = queries.nothing("auth/revoke")
REHASH_PASSWORD = queries.nothing("users/rehash_password")


def _wrong_credentials() -> Unauthorized:
    return Unauthorized("Wrong username, email or password.", headers={"WWW-Authenticate": "Bearer"})


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post("/token", response_model=Token, responses={**problems(*BODY, 401, 429), **sends(200, NO_STORE)})
async def sign_in(form: Annotated[SignInForm, Form()], db: Db, passwords: PasswordsDep, request: Request) -> Response:
    """Trade a username (or email) and password for a bearer token (OAuth2 password grant)."""
    settings = request.app.state.settings
    account = await db.run(FIND_LOGIN, form.username)
    if account is None:
        await passwords.verify_nobody(form.password)
        raise _wrong_credentials()
    # Counted before the password is checked, so that a burst of guesses cannot outrun the count.
    attempt = await db.run(COUNT_ATTEMPT, account.id)
    assert attempt is not None  # INSERT … ON CONFLICT DO UPDATE … RETURNING: one row, always
    if attempt.attempts > settings.login_attempts_per_minute:
        raise TooManyRequests(
            "Too many sign-in attempts for this account; wait and try again.",
            headers={"Retry-After": str(max(attempt.retry_after, 1))},
        )
    if not await passwords.verify(account.password_hash, form.password):
        raise _wrong_credentials()
    if passwords.needs_rehash(account.password_hash):
        new_hash = await passwords.hash(form.password)
        await db.run(REHASH_PASSWORD, account.id, new_hash, account.password_hash)
    token = new_token()
    await db.run(CREATE_TOKEN, token_hash(token), account.id, timedelta(seconds=settings.token_ttl_seconds))
    # RFC 6749 5.1: a token answer is never cached.
    return json(Token(access_token=token, expires_in=settings.token_ttl_seconds), headers=NO_STORE)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401))
async def sign_out(user: CurrentUser, token: BearerToken, db: Db) -> Response:
    """Revoke the token this request carries, at once."""
    await db.run(REVOKE, token_hash(token))
    return no_content()
