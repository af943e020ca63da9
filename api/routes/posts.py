"""Posts, each with its author embedded, fetched in the same statement."""

from fastapi import APIRouter, Request, Response, status

from api.auth import CurrentUser, refuse_change
from api.db import Db
from api.errors import NotFound
from api.openapi import BODY, problems
from api.params import Limit, PathId, Skip
from api.schemas.auth import Owner
from api.schemas.posts import PostCreate, PostPublic, PostsPublic, PostUpdate
from api.schemas.users import UserPublic
from api.sql import queries

router = APIRouter(prefix="/posts", tags=["posts"], responses=problems(422, 503))
by_author = APIRouter(prefix="/users", tags=["posts"], responses=problems(422, 503))

CREATE = queries.one("posts/create", PostPublic)
GET_BY_ID = queries.one("posts/get_by_id", PostPublic)
LIST = queries.many("posts/list", PostPublic)
LIST_BY_AUTHOR = queries.many("posts/list_by_author", PostPublic)
UPDATE = queries.one("posts/update", PostPublic)
DELETE = queries.value("posts/delete", int)
GET_OWNER = queries.one("posts/get_owner", Owner)
GET_USER = queries.one("users/get_by_id", UserPublic)


@router.post("/", status_code=status.HTTP_201_CREATED, responses=problems(*BODY, 401))
async def create_post(post: PostCreate, user: CurrentUser, db: Db, request: Request, response: Response) -> PostPublic:
    """Write a post, as the signed-in user."""
    created = await db.run(CREATE, user.id, post.title, post.content)
    response.headers["Location"] = str(request.url_for("read_post", post_id=created.id))
    return created


@router.get("/{post_id}", responses=problems(404))
async def read_post(post_id: PathId, db: Db) -> PostPublic:
    post = await db.run(GET_BY_ID, post_id)
    if post is None:
        raise NotFound(f"There is no post {post_id}.")
    return post


@router.get("/")
async def list_posts(db: Db, skip: Skip = 0, limit: Limit = 100) -> PostsPublic:
    """Posts with their authors, oldest first."""
    return PostsPublic(data=await db.run(LIST, skip, limit))


@router.patch("/{post_id}", responses=problems(*BODY, 401, 403, 404))
async def update_post(post_id: PathId, changes: PostUpdate, user: CurrentUser, db: Db) -> PostPublic:
    """Change a post; only its author may."""
    post = await db.run(UPDATE, post_id, user.id, changes.get("title"), changes.get("content"))
    if post is None:
        raise refuse_change(await db.run(GET_OWNER, post_id), f"post {post_id}")
    return post


@router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404))
async def delete_post(post_id: PathId, user: CurrentUser, db: Db) -> None:
    """Delete a post; only its author may."""
    if await db.run(DELETE, post_id, user.id) is None:
        raise refuse_change(await db.run(GET_OWNER, post_id), f"post {post_id}")


@by_author.get("/{user_id}/posts", responses=problems(404))
async def list_user_posts(user_id: PathId, db: Db, skip: Skip = 0, limit: Limit = 100) -> PostsPublic:
    """One user's posts, oldest first."""
    posts = await db.run(LIST_BY_AUTHOR, user_id, skip, limit)
    if not posts and await db.run(GET_USER, user_id) is None:
        raise NotFound(f"There is no user {user_id}.")
    return PostsPublic(data=posts)
