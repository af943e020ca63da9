"""Items: things for sale. Anyone may read them; writing needs a token, and only an item's
owner may change or delete it."""

from fastapi import APIRouter, Request, Response, status

from api.data.db import Db
from api.data.registry import queries
from api.http.conditional import IfMatch, unchanged_since
from api.http.errors import NotFound
from api.http.idempotency import IdempotencyKey, answer_once
from api.http.openapi import BODY, problems
from api.http.pagination import Count, Cursor, Limit, Position, Skip, count_wanted, page_of
from api.http.representation import json, no_content
from api.resources.fields import PathId
from api.resources.items.schemas import (
    NOTHING_MATCHES,
    AttributeFilter,
    ItemCreate,
    ItemPublic,
    ItemsPublic,
    ItemUpdate,
    PriceBound,
    attribute_pairs,
)
from api.security.ownership import Owner, refuse_change
from api.security.tokens import CurrentUser

router = APIRouter(prefix="/items", tags=["items"], responses=problems(422, 503))

CREATE = queries.one("items/create", ItemPublic)
GET_BY_ID = queries.one("items/get_by_id", ItemPublic)
LIST = queries.many("items/list", ItemPublic)
COUNT = queries.value("items/count", int)
UPDATE = queries.one("items/update", ItemPublic)
DELETE = queries.value("items/delete", int)
GET_OWNER = queries.one("items/get_owner", Owner)
GET_FOR_UPDATE = queries.one("items/get_for_update", ItemPublic)


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=ItemPublic, responses=problems(*BODY, 401, 409))
async def create_item(
    item: ItemCreate, user: CurrentUser, db: Db, request: Request, key: IdempotencyKey = None
) -> Response:
    """Create an item owned by the signed-in user (once per `Idempotency-Key`)."""

    async def write() -> tuple[ItemPublic, dict[str, str]]:
        created = await db.run(CREATE, user.id, item.name, item.description, item.price, item.attributes)
        assert created is not None  # INSERT … RETURNING: one row, always
        return created, {"Location": f"{request.scope['root_path']}/items/{created.id}"}

    return await answer_once(db, request, key, f"user:{user.id}", status.HTTP_201_CREATED, write)


@router.get("/{item_id}", response_model=ItemPublic, responses=problems(404))
async def read_item(item_id: PathId, db: Db) -> Response:
    """An item, with its `ETag`; send that back in `If-None-Match` for a 304 while it is unchanged."""
    item = await db.run(GET_BY_ID, item_id)
    if item is None:
        raise NotFound(f"There is no item {item_id}.")
    return json(item)


@router.get("/", response_model=ItemsPublic)
async def list_items(
    request: Request,
    db: Db,
    cursor: Cursor = None,
    skip: Skip = 0,
    limit: Limit = 100,
    min_price: PriceBound = None,
    max_price: PriceBound = None,
    attr: AttributeFilter = None,
    count: Count = False,
) -> Response:
    """Items, oldest first; `attr=color:red` (repeatable) keeps those whose attributes hold all pairs."""
    if attr is NOTHING_MATCHES:
        headers: dict[str, str] = {}
        return json(
            ItemsPublic(data=[], next=None, cursor=None, count=0 if count_wanted(request, count, headers) else None),
            headers=headers,
        )
    after = cursor.id if cursor else None
    rows = await db.run(LIST, after, skip, limit + 1, min_price, max_price, attr)
    page = page_of(
        request,
        rows,
        limit,
        lambda item: Position(id=item.id),
        "/items/",
        min_price=min_price,
        max_price=max_price,
        attr=attribute_pairs(attr),
        count=count,
    )
    total = await db.run(COUNT, min_price, max_price, attr) if count_wanted(request, count, page.headers) else None
    return json(ItemsPublic(data=page.data, next=page.next, cursor=page.cursor, count=total), headers=page.headers)


@router.patch("/{item_id}", response_model=ItemPublic, responses=problems(*BODY, 401, 403, 404, 412))
async def update_item(
    item_id: PathId, changes: ItemUpdate, user: CurrentUser, db: Db, if_match: IfMatch = None
) -> Response:
    """Change the fields sent; the rest stay. Only the owner may; with If-Match, only that version."""
    async with unchanged_since(db, if_match, GET_FOR_UPDATE, item_id, f"item {item_id}"):
        item = await db.run(
            UPDATE,
            item_id,
            user.id,
            changes.get("name"),
            "description" in changes,
            changes.get("description"),
            changes.get("price"),
            changes.get("attributes"),
        )
        if item is None:
            raise refuse_change(await db.run(GET_OWNER, item_id), f"item {item_id}")
    return json(item)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 412))
async def delete_item(item_id: PathId, user: CurrentUser, db: Db, if_match: IfMatch = None) -> Response:
    """Delete an item. Only the owner may; with If-Match, only that version."""
    async with unchanged_since(db, if_match, GET_FOR_UPDATE, item_id, f"item {item_id}"):
        if await db.run(DELETE, item_id, user.id) is None:
            raise refuse_change(await db.run(GET_OWNER, item_id), f"item {item_id}")
    return no_content()
