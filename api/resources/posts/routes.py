"""Posts (and /users/{id}/posts), each with its author and tags, fetched in the same statement; full-text search;
tags written with their post in one transaction."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from api.data.db import Db, Session
from api.data.registry import queries
from api.http.conditional import IfMatch, unchanged_since
from api.http.errors import NotFound
from api.http.idempotency import IdempotencyKey, answer_once
from api.http.openapi import BODY, problems
from api.http.pagination import Count, Cursor, Limit, Position, Skip, count_wanted, page_of
from api.http.representation import json, no_content
from api.resources.fields import CANONICAL_BOOL, PathId, stored_text
from api.resources.posts.schemas import PostCreate, PostFound, PostPublic, PostsFound, PostsPublic, PostUpdate, Tag
from api.resources.users.schemas import UserPublic
from api.security.ownership import Owner, refuse_change
from api.security.tokens import CurrentUser

# Every route that answers with posts, the posts of one author among them: full paths, no prefix.
router = APIRouter(tags=["posts"], responses=problems(422, 503))

CREATE = queries.one("posts/create", PostPublic)
GET_BY_ID = queries.one("posts/get_by_id", PostPublic)
LIST = queries.many("posts/list", PostPublic)
LIST_BY_TAG = queries.many("posts/list_by_tag", PostPublic)
LIST_BY_AUTHOR = queries.many("posts/list_by_author", PostPublic)
SEARCH = queries.many("posts/search", PostFound)
COUNT = queries.value("posts/count", int)
COUNT_BY_TAG = queries.value("posts/count_by_tag", int)
COUNT_BY_AUTHOR = queries.value("posts/count_by_author", int)
COUNT_SEARCH = queries.value("posts/count_search", int)
UPDATE = queries.one("posts/update", PostPublic)
SET_TAGS = queries.nothing("posts/set_tags")
DELETE = queries.value("posts/delete", int)
GET_OWNER = queries.one("posts/get_owner", Owner)
GET_FOR_UPDATE = queries.one("posts/get_for_update", PostPublic)
GET_USER = queries.one("users/get_by_id", UserPublic)

SearchQuery = Annotated[
    Annotated[str, stored_text(1, 200)] | None,
    Query(description='Full-text search, as in a web search: words, "quoted phrases", or, -word. Best match first.'),
]
Highlight = Annotated[
    bool, Query(description="With `q`: add a `snippet` of the matching text to each post."), CANONICAL_BOOL
]
TagFilter = Annotated[Tag | None, Query(description="Only posts carrying this tag.")]


def _newest_first(post: PostPublic) -> Position:
    return Position(id=post.id)


def _best_first(post: PostFound) -> Position:
    return Position(id=post.id, rank=post.rank)


async def _tag_and_reread(db: Session, post_id: int, tags: list[str]) -> PostPublic:
    """Inside the post's transaction: its tags, then the post as now stored."""
    await db.run(SET_TAGS, post_id, tags)
    post = await db.run(GET_BY_ID, post_id)
    assert post is not None  # written in this transaction, which holds its row lock
    return post


@router.post(
    "/posts/", status_code=status.HTTP_201_CREATED, response_model=PostPublic, responses=problems(*BODY, 401, 409)
)
async def create_post(
    post: PostCreate, user: CurrentUser, db: Db, request: Request, key: IdempotencyKey = None
) -> Response:
    """Write a post, as the signed-in user; with its tags, in one transaction (once per `Idempotency-Key`)."""

    async def write() -> tuple[PostPublic, dict[str, str]]:
        if post.tags:
            async with db.transaction():
                created = await db.run(CREATE, user.id, post.title, post.content)
                assert created is not None  # INSERT … RETURNING: one row, always
                created = await _tag_and_reread(db, created.id, post.tags)
        else:
            created = await db.run(CREATE, user.id, post.title, post.content)
        assert created is not None
        return created, {"Location": f"{request.scope['root_path']}/posts/{created.id}"}

    return await answer_once(db, request, key, f"user:{user.id}", status.HTTP_201_CREATED, write)


@router.get("/posts/{post_id}", response_model=PostPublic, responses=problems(404))
async def read_post(post_id: PathId, db: Db) -> Response:
    """A post with its author and tags, with its `ETag` (a 304 for `If-None-Match` while unchanged)."""
    post = await db.run(GET_BY_ID, post_id)
    if post is None:
        raise NotFound(f"There is no post {post_id}.")
    return json(post)


@router.get("/posts/", response_model=PostsFound)
async def list_posts(
    request: Request,
    db: Db,
    q: SearchQuery = None,
    highlight: Highlight = False,
    tag: TagFilter = None,
    cursor: Cursor = None,
    skip: Skip = 0,
    limit: Limit = 100,
    count: Count = False,
) -> Response:
    """Posts with their authors and tags: newest first, or best match first with `q`."""
    before = cursor.id if cursor else None
    if q is not None:
        after_rank = cursor.rank if cursor else None
        found = await db.run(SEARCH, q, after_rank, before, skip, limit + 1, highlight, tag)
        results = page_of(request, found, limit, _best_first, "/posts/", q=q, highlight=highlight, tag=tag, count=count)
        total = await db.run(COUNT_SEARCH, q, tag) if count_wanted(request, count, results.headers) else None
        return json(
            PostsFound(data=results.data, next=results.next, cursor=results.cursor, count=total),
            headers=results.headers,
        )
    if tag is not None:
        rows = await db.run(LIST_BY_TAG, tag, before, skip, limit + 1)
        counting: tuple[Any, ...] = (COUNT_BY_TAG, tag)
    else:
        rows = await db.run(LIST, before, skip, limit + 1)
        counting = (COUNT,)
    page = page_of(request, rows, limit, _newest_first, "/posts/", highlight=highlight, tag=tag, count=count)
    total = await db.run(*counting) if count_wanted(request, count, page.headers) else None
    return json(PostsPublic(data=page.data, next=page.next, cursor=page.cursor, count=total), headers=page.headers)


@router.patch("/posts/{post_id}", response_model=PostPublic, responses=problems(*BODY, 401, 403, 404, 412))
async def update_post(
    post_id: PathId, changes: PostUpdate, user: CurrentUser, db: Db, if_match: IfMatch = None
) -> Response:
    """Change a post; only its author may, and with If-Match only that version. New tags
    replace the old, in the same transaction."""
    async with unchanged_since(db, if_match, GET_FOR_UPDATE, post_id, f"post {post_id}"):
        if "tags" not in changes:
            post = await db.run(UPDATE, post_id, user.id, changes.get("title"), changes.get("content"))
            if post is None:
                raise refuse_change(await db.run(GET_OWNER, post_id), f"post {post_id}")
            return json(post)
        async with db.transaction():
            post = await db.run(UPDATE, post_id, user.id, changes.get("title"), changes.get("content"))
            if post is None:
                raise refuse_change(await db.run(GET_OWNER, post_id), f"post {post_id}")
            return json(await _tag_and_reread(db, post_id, changes["tags"]))


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 412))
async def delete_post(post_id: PathId, user: CurrentUser, db: Db, if_match: IfMatch = None) -> Response:
    """Delete a post; only its author may, and with If-Match only that version."""
    async with unchanged_since(db, if_match, GET_FOR_UPDATE, post_id, f"post {post_id}"):
        if await db.run(DELETE, post_id, user.id) is None:
            raise refuse_change(await db.run(GET_OWNER, post_id), f"post {post_id}")
    return no_content()


@router.get("/users/{user_id}/posts", response_model=PostsPublic, responses=problems(404))
async def list_user_posts(
    user_id: PathId,
    request: Request,
    db: Db,
    cursor: Cursor = None,
    skip: Skip = 0,
    limit: Limit = 100,
    count: Count = False,
) -> Response:
    """One user's posts, newest first."""
    rows = await db.run(LIST_BY_AUTHOR, user_id, cursor.id if cursor else None, skip, limit + 1)
    if not rows and await db.run(GET_USER, user_id) is None:
        raise NotFound(f"There is no user {user_id}.")
    page = page_of(request, rows, limit, _newest_first, f"/users/{user_id}/posts", count=count)
    total = await db.run(COUNT_BY_AUTHOR, user_id) if count_wanted(request, count, page.headers) else None
    return json(PostsPublic(data=page.data, next=page.next, cursor=page.cursor, count=total), headers=page.headers)
