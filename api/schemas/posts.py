"""What clients send and receive for posts. A post always comes with its author."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from api.schemas.common import text

Title = Annotated[text(1, 200, blank=False), Field(description="1 to 200 characters, not only white space.")]
Content = Annotated[text(1, 50000), Field(description="1 to 50000 characters.")]


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    content: Content


class PostUpdate(TypedDict, total=False):
    """The fields to change; a field left out stays as it is."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    title: Title
    content: Content


class Author(BaseModel):
    id: int
    username: str


class PostPublic(BaseModel):
    id: int
    title: str
    content: str
    author: Author
    created_at: datetime
    updated_at: datetime


class PostsPublic(BaseModel):
    data: list[PostPublic]
