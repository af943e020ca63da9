"""Items: things for sale. Anyone may read them; writing needs a token, and only an item's
owner may change or delete it."""

from fastapi import APIRouter, Request, Response, status

from api.auth import CurrentUser, refuse_change
from api.db import Db
from api.errors import NotFound
from api.idempotency import IdempotencyKey, answer_once
from api.openapi import BODY, problems
from api.pagination import Count, Cursor, Limit, Position, Skip, count_wanted, page_of
from api.params import PathId
from api.schemas.auth import Owner
from api.schemas.items import (
    NOTHING_MATCHES,
    AttributeFilter,
    ItemCreate,
    ItemPublic,
    ItemsPublic,
    ItemUpdate,
    PriceBound,
)
from api.sql import queries

router = APIRouter(prefix="/items", tags=["items"], responses=problems(422, 503))

CREATE = queries.one("items/create", ItemPublic)
GET_BY_ID = queries.one("items/get_by_id", ItemPublic)
LIST = queries.many("items/list", ItemPublic)
COUNT = queries.value("items/count", int)
UPDATE = queries.one("items/update", ItemPublic)
DELETE = queries.value("items/delete", int)
GET_OWNER = queries.one("items/get_owner", Owner)


@router.post("/", status_code=status.HTTP_201_CREATED, responses=problems(*BODY, 401, 409))
async def create_item(
    item: ItemCreate, user: CurrentUser, db: Db, request: Request, key: IdempotencyKey = None
) -> ItemPublic:
    """Create an item owned by the signed-in user (once per `Idempotency-Key`)."""

    async def write() -> tuple[ItemPublic, dict[str, str]]:
        created = await db.run(CREATE, user.id, item.name, item.description, item.price, item.attributes)
        return created, {"Location": str(request.url_for("read_item", item_id=created.id))}

    return await answer_once(db, request, key, f"user:{user.id}", status.HTTP_201_CREATED, write)


@router.get("/{item_id}", responses=problems(404))
async def read_item(item_id: PathId, db: Db) -> ItemPublic:
    item = await db.run(GET_BY_ID, item_id)
    if item is None:
        raise NotFound(f"There is no item {item_id}.")
    return item


@router.get("/")
async def list_items(
    request: Request,
    response: Response,
    db: Db,
    cursor: Cursor = None,
    skip: Skip = 0,
    limit: Limit = 100,
    min_price: PriceBound = None,
    max_price: PriceBound = None,
    attr: AttributeFilter = None,
    count: Count = False,
) -> ItemsPublic:
    """Items, oldest first; `attr=color:red` (repeatable) keeps those whose attributes hold all pairs."""
    if attr is NOTHING_MATCHES:
        return ItemsPublic(data=[], next=None, count=0 if count_wanted(request, response, count) else None)
    after = cursor.id if cursor else None
    rows = await db.run(LIST, after, skip, limit + 1, min_price, max_price, attr)
    data, next_url = page_of(request, response, rows, limit, lambda item: Position(id=item.id))
    total = await db.run(COUNT, min_price, max_price, attr) if count_wanted(request, response, count) else None
    return ItemsPublic(data=data, next=next_url, count=total)


@router.patch("/{item_id}", responses=problems(*BODY, 401, 403, 404))
async def update_item(item_id: PathId, changes: ItemUpdate, user: CurrentUser, db: Db) -> ItemPublic:
    """Change the fields sent; the rest stay. Only the owner may."""
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
    return item


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404))
async def delete_item(item_id: PathId, user: CurrentUser, db: Db) -> None:
    """Delete an item. Only the owner may."""
    if await db.run(DELETE, item_id, user.id) is None:
        raise refuse_change(await db.run(GET_OWNER, item_id), f"item {item_id}")
