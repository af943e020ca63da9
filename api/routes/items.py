"""Items: things for sale."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from api.db import Db
from api.errors import NotFound
from api.pagination import Limit, Skip
from api.schemas.common import INT8_MAX
from api.schemas.items import ItemCreate, ItemPublic, ItemsPublic, ItemUpdate
from api.sql import queries

router = APIRouter(prefix="/items", tags=["items"])

CREATE = queries.one("items/create", ItemPublic)
GET_BY_ID = queries.one("items/get_by_id", ItemPublic)
LIST = queries.many("items/list", ItemPublic)
UPDATE = queries.one("items/update", ItemPublic)
DELETE = queries.value("items/delete", int)

ItemId = Annotated[int, Path(ge=1, le=INT8_MAX)]


def _not_found(item_id: int) -> NotFound:
    return NotFound(f"There is no item {item_id}.")


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_item(item: ItemCreate, db: Db, request: Request, response: Response) -> ItemPublic:
    created = await db.run(CREATE, item.name, item.description, item.price)
    response.headers["Location"] = str(request.url_for("read_item", item_id=created.id))
    return created


@router.get("/{item_id}")
async def read_item(item_id: ItemId, db: Db) -> ItemPublic:
    item = await db.run(GET_BY_ID, item_id)
    if item is None:
        raise _not_found(item_id)
    return item


@router.get("/")
async def list_items(db: Db, skip: Skip = 0, limit: Limit = 100) -> ItemsPublic:
    return ItemsPublic(data=await db.run(LIST, skip, limit))


@router.patch("/{item_id}")
async def update_item(item_id: ItemId, changes: ItemUpdate, db: Db) -> ItemPublic:
    item = await db.run(
        UPDATE,
        item_id,
        changes.get("name"),
        "description" in changes,
        changes.get("description"),
        changes.get("price"),
    )
    if item is None:
        raise _not_found(item_id)
    return item


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item_id: ItemId, db: Db) -> None:
    if await db.run(DELETE, item_id) is None:
        raise _not_found(item_id)
