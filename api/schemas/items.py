"""What clients send and receive for items."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from api.schemas.common import json_int, text

ItemName = Annotated[text(1, 200, blank=False), Field(description="What the item is called.")]
ItemDescription = Annotated[text(0, 2000), Field(description="A longer description.")]
Price = json_int(0, "Price in cents, zero or more.")


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ItemName
    description: ItemDescription | None = None
    price: Price


class ItemUpdate(TypedDict, total=False):
    """The fields to change; a field left out stays as it is."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    name: ItemName
    description: ItemDescription | None
    price: Price


class ItemPublic(BaseModel):
    id: int
    owner_id: int | None = Field(description="The user who created it; null for items older than owners.")
    name: str
    description: str | None
    price: int
    created_at: datetime
    updated_at: datetime


class ItemsPublic(BaseModel):
    data: list[ItemPublic]
