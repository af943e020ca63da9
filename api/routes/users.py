"""Users: sign-up and public profiles."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from api.db import Db
from api.errors import NotFound
from api.pagination import Limit, Skip
from api.passwords import PasswordsDep
from api.schemas.common import INT8_MAX
from api.schemas.users import UserCreate, UserPrivate, UserPublic, UsersPublic
from api.sql import queries

router = APIRouter(prefix="/users", tags=["users"])

CREATE = queries.one("users/create", UserPrivate)
GET_BY_ID = queries.one("users/get_by_id", UserPublic)
LIST = queries.many("users/list", UserPublic)

UserId = Annotated[int, Path(ge=1, le=INT8_MAX)]


@router.post("/", status_code=status.HTTP_201_CREATED, responses={409: {"description": "Email or username taken"}})
async def create_user(
    user: UserCreate, db: Db, passwords: PasswordsDep, request: Request, response: Response
) -> UserPrivate:
    # A taken email or username is decided by the unique index, inside the INSERT: no race.
    created = await db.run(CREATE, user.email, user.username, await passwords.hash(user.password))
    response.headers["Location"] = str(request.url_for("read_user", user_id=created.id))
    return created


@router.get("/{user_id}")
async def read_user(user_id: UserId, db: Db) -> UserPublic:
    user = await db.run(GET_BY_ID, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


@router.get("/")
async def list_users(db: Db, skip: Skip = 0, limit: Limit = 100) -> UsersPublic:
    return UsersPublic(data=await db.run(LIST, skip, limit))
