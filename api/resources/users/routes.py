"""Users: sign-up, public profiles, and each user's own account at /users/me."""

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from api.data.db import Db
from api.data.registry import queries
from api.http.client_address import ClientAddress
from api.http.conditional import IfMatch, unchanged_since
from api.http.errors import Conflict, Forbidden, NotFound
from api.http.headers import sends
from api.http.idempotency import IdempotencyKey, answer_once
from api.http.openapi import BODY, problems
from api.http.pagination import Count, Cursor, Limit, Position, Skip, count_wanted, page_of
from api.http.representation import json, no_content
from api.resources.fields import PathId
from api.resources.users.schemas import UserCreate, UserPrivate, UserPublic, UsersPublic, UserUpdate
from api.security.passwords import PasswordsDep
from api.security.throttle import ThrottleDep, user_subject
from api.security.tokens import BearerToken, CurrentUser, token_hash

router = APIRouter(prefix="/users", tags=["users"], responses=problems(422, 503))

CREATE = queries.one("users/create", UserPrivate)
GET_BY_ID = queries.one("users/get_by_id", UserPublic)
LIST = queries.many("users/list", UserPublic)
COUNT = queries.value("users/count", int)
GET_PASSWORD_HASH = queries.value("users/get_password_hash", str)
UPDATE = queries.one("users/update", UserPrivate)
DELETE = queries.nothing("users/delete")
GET_FOR_UPDATE = queries.one("users/get_private_for_update", UserPrivate)
TAKEN = queries.value("users/taken", str)


def _account_id(created: BaseModel) -> int:
    """A sign-up's stored answer belongs to the account it made."""
    assert isinstance(created, UserPrivate)
    return created.id


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=UserPrivate, responses=problems(*BODY, 409))
async def create_user(
    user: UserCreate, db: Db, passwords: PasswordsDep, request: Request, key: IdempotencyKey = None
) -> Response:
    """Sign up. A taken email or username is a 409 naming the field (once per `Idempotency-Key`)."""
    # A cheap read first: a taken name costs no hashing. (Not a check-then-insert: the INSERT's
    # unique indexes still decide.) Through answer_once, so a retry of a sign-up that
    # succeeded gets its 201 again, not a 409 for the account it made.
    async with passwords.admitted() as hashing:  # first: a sign-up refused for want of room costs no statement
        taken = await db.run(TAKEN, user.email, user.username)
        # Before any transaction: it takes a while.
        password_hash = await hashing.hash(user.password) if taken is None else None
    if taken is not None:

        async def refuse() -> tuple[UserPrivate, dict[str, str]]:
            raise Conflict(f"That {taken} is already taken.", field=taken)

        return await answer_once(db, request, key, "anonymous", status.HTTP_201_CREATED, refuse)
    assert password_hash is not None  # hashed when nothing was taken

    async def write() -> tuple[UserPrivate, dict[str, str]]:
        # The unique indexes decide, inside the INSERT: no check-then-insert race.
        created = await db.run(CREATE, user.email, user.username, password_hash)
        assert created is not None  # INSERT … RETURNING: one row, always
        return created, {"Location": f"{request.scope['root_path']}/users/{created.id}"}

    return await answer_once(db, request, key, "anonymous", status.HTTP_201_CREATED, write, owner_of=_account_id)


# An account's own answers depend on the token: no shared cache may keep them for another.
OWN = {"Cache-Control": "private", "Vary": "Authorization"}


# /users/me comes before /users/{user_id}, which would otherwise take "me" for an id.
@router.get("/me", response_model=UserPrivate, responses={**problems(401), **sends(200, OWN)})
async def read_me(user: CurrentUser) -> Response:
    """The signed-in user's own account."""
    return json(user, headers=OWN)


@router.patch(
    "/me", response_model=UserPrivate, responses={**problems(*BODY, 401, 403, 409, 412, 429), **sends(200, OWN)}
)
async def update_me(
    changes: UserUpdate,
    user: CurrentUser,
    token: BearerToken,
    db: Db,
    passwords: PasswordsDep,
    throttle: ThrottleDep,
    client: ClientAddress,
    if_match: IfMatch = None,
) -> Response:
    """Change the signed-in user's email, username or password. A new email or password
    needs `current_password`; a new password signs out every other session."""
    new_hash = None
    if "email" in changes or "password" in changes:
        current = changes.get("current_password")
        refused = Forbidden("Changing the email or password needs the right current_password.")
        if current is None:
            raise refused
        async with passwords.admitted() as hashing:  # before reading the hash: refused for want of room, no statement
            stored = await db.run(GET_PASSWORD_HASH, user.id)
            # The sign-in's throttle: a token holder may not guess the password any faster.
            if not await throttle.check_password(db, hashing, client, user_subject(user.id), stored, current):
                raise refused
            if "password" in changes:
                new_hash = await hashing.hash(changes["password"])
    async with unchanged_since(db, if_match, GET_FOR_UPDATE, user.id, "account"):
        updated = await db.run(
            UPDATE, user.id, changes.get("email"), changes.get("username"), new_hash, token_hash(token)
        )
    if updated is None:  # deleted meanwhile
        raise NotFound("The account no longer exists.")
    return json(updated, headers=OWN)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 412))
async def delete_me(user: CurrentUser, db: Db, if_match: IfMatch = None) -> Response:
    """Delete the signed-in user's account, with their posts, items and tokens; with
    If-Match, only if it is still at that version."""
    async with unchanged_since(db, if_match, GET_FOR_UPDATE, user.id, "account"):
        await db.run(DELETE, user.id)
    return no_content()


@router.get("/{user_id}", response_model=UserPublic, responses=problems(404))
async def read_user(user_id: PathId, db: Db) -> Response:
    """A user's public profile (no email), with its `ETag` (a 304 for `If-None-Match` while unchanged)."""
    user = await db.run(GET_BY_ID, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return json(user)


@router.get("/", response_model=UsersPublic)
async def list_users(
    request: Request,
    db: Db,
    cursor: Cursor = None,
    skip: Skip = 0,
    limit: Limit = 100,
    count: Count = False,
) -> Response:
    """Public profiles, oldest first."""
    rows = await db.run(LIST, cursor.id if cursor else None, skip, limit + 1)
    page = page_of(request, rows, limit, lambda user: Position(id=user.id), "/users/", count=count)
    total = await db.run(COUNT) if count_wanted(request, count, page.headers) else None
    return json(UsersPublic(data=page.data, next=page.next, cursor=page.cursor, count=total), headers=page.headers)
