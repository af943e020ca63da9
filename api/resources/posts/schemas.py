"""What clients send and receive for posts. A post always comes with its author and tags."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from api.http.pagination import Page
from api.resources.fields import stored_text
from api.resources.users.schemas import Author

MAX_TAGS = 10

Title = Annotated[
    str, stored_text(1, 200, blank=False), Field(description="1 to 200 characters, not only white space.")
]
Content = Annotated[str, stored_text(1, 50000), Field(description="1 to 50000 characters.")]
Tag = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$"),
    Field(description="Lowercase letters, digits and '-', up to 32 characters."),
]
Tags = Annotated[
    list[Tag],
    Field(max_length=MAX_TAGS, description=f"Up to {MAX_TAGS} tags; repeats count once.", examples=[["news"]]),
]


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    content: Content
    tags: Tags = Field(default_factory=list)


class PostUpdate(TypedDict, total=False):
    """The fields to change; a field left out stays as it is. `tags` replaces the post's tags."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    title: Title
    content: Content
    tags: Tags


class PostPublic(BaseModel):
    id: int
    title: str
    content: str
    author: Author
    tags: list[str]
    created_at: datetime
    updated_at: datetime


def _absent(value: object) -> bool:
    return value is None


# Plain lists are sent as PostPublic: deciding, post by post, whether to leave a field out
# is work only search results need.
class PostFound(PostPublic):
    """A post in a list; in a search, with how well it matches (the fields are left out elsewhere)."""

    rank: float | None = Field(
        default=None, exclude_if=_absent, description="In a search: how well the post matches (higher first)."
    )
    snippet: str | None = Field(
        default=None,
        exclude_if=_absent,
        description="In a search with `highlight=true`: the best fragments of the content, each match wrapped "
        "in <mark>…</mark>. HTML, safe to insert as it is: the text is escaped and the <mark>s are its only tags.",
    )


class PostsPublic(Page[PostPublic]):
    """A page of posts."""


class PostsFound(Page[PostFound]):
    """A page of posts; in a search, each with how well it matches."""
