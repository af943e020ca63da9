"""Signing in and out."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from api.data.db import Db
from api.data.registry import queries
from api.http.client_address import ClientAddress
from api.http.headers import also_sending
from api.http.openapi import problems
from api.http.representation import json, no_content
from api.resources.auth.oauth2 import NO_STORE, OAuth2Error, OAuth2ErrorBody, OAuth2Route
from api.resources.auth.schemas import Credentials, SignInForm, Token
from api.resources.users.names import normalized_login
from api.security.passwords import PasswordsDep
from api.security.throttle import ThrottleDep, login_subject
from api.security.tokens import BearerToken, CurrentUser, new_token, token_hash

router = APIRouter(prefix="/auth", tags=["auth"], responses=problems(503))

FIND_LOGIN = queries.one("auth/find_login", Credentials)
CREATE_TOKEN = queries.nothing("auth/create_token")
REVOKE = queries.nothing("auth/revoke")
REHASH_PASSWORD = queries.nothing("users/rehash_password")

WRONG_CREDENTIALS = "Wrong username, email or password."

OAUTH2_ERRORS: dict[int | str, dict[str, object]] = {
    400: {
        "model": OAuth2ErrorBody,
        "description": "RFC 6749 section 5.2: invalid_grant (wrong username, email or password), "
        "invalid_request (a field missing or malformed), unsupported_grant_type.",
        "content": {
            "application/json": {"example": {"error": "invalid_grant", "error_description": WRONG_CREDENTIALS}}
        },
    }
}


async def sign_in(
    form: Annotated[SignInForm, Form()],
    db: Db,
    passwords: PasswordsDep,
    throttle: ThrottleDep,
    client: ClientAddress,
    request: Request,
) -> Response:
    """Trade a username (or email) and password for a bearer token (OAuth2 password grant).
    Failures answer as RFC 6749 says; too many from one address are a 429 with Retry-After."""
    settings = request.app.state.settings
    async with passwords.admitted() as hashing:  # first: a sign-in refused for want of room costs no statement
        login = normalized_login(form.username)
        account = await db.run(FIND_LOGIN, login) if login is not None else None
        stored = account.password_hash if account is not None else None
        subject = login_subject(login if login is not None else form.username)
        # Through the throttle whether the account exists or not, and as slow either way.
        right = await throttle.check_password(db, hashing, client, subject, stored, form.password)
        if account is None or not right:
            raise OAuth2Error("invalid_grant", WRONG_CREDENTIALS)
        if passwords.needs_rehash(account.password_hash):
            new_hash = await hashing.hash(form.password)
            await db.run(REHASH_PASSWORD, account.id, new_hash, account.password_hash)
    token = new_token()
    await db.run(CREATE_TOKEN, token_hash(token), account.id, timedelta(seconds=settings.token_ttl_seconds))
    return json(Token(access_token=token, expires_in=settings.token_ttl_seconds), headers=NO_STORE)


router.add_api_route(
    "/token",
    sign_in,
    methods=["POST"],
    response_model=Token,
    # Every answer is never cached: the token, and OAuth2's errors in its place.
    # (A 503 from the database's driver, rather than from the service itself, has no Cache-Control.)
    responses=also_sending(
        also_sending({**problems(413, 429, 503), 400: OAUTH2_ERRORS[400]}, NO_STORE, 200, 400, 429),
        NO_STORE,
        503,
        always=False,
    ),
    route_class_override=OAuth2Route,
)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401))
async def sign_out(user: CurrentUser, token: BearerToken, db: Db) -> Response:
    """Revoke the token this request carries, at once."""
    await db.run(REVOKE, token_hash(token))
    return no_content()
