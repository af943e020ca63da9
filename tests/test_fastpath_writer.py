"""Answers are written byte for byte as pydantic-core writes them, whichever writer runs
(api/responses.py): orjson for models that write their fields as they are, pydantic-core
for the rest."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, computed_field, field_serializer

from api.fastpath.writer import _writing
from api.fastpath.writer import orjson_bytes as body_of
from api.resources.items.schemas import ItemPublic, ItemsPublic
from api.resources.posts.schemas import PostFound, PostPublic, PostsFound, PostsPublic
from api.resources.users.schemas import UserPrivate, UserPublic, UsersPublic


def pydantic_core(model: BaseModel) -> bytes:
    return model.__pydantic_serializer__.to_json(model)


ZONES = st.sampled_from([UTC, None, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
MOMENTS = st.datetimes(timezones=ZONES)
INTEGERS = st.integers(min_value=-(2**70), max_value=2**70)  # past orjson's 64 bits too
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTEGERS | FLOATS | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

users = st.builds(UserPublic, id=INTEGERS, username=st.text(), created_at=MOMENTS)
private_users = st.builds(UserPrivate, id=INTEGERS, username=st.text(), created_at=MOMENTS, email=st.text())
items = st.builds(
    ItemPublic,
    id=INTEGERS,
    owner_id=st.none() | INTEGERS,
    name=st.text(),
    description=st.none() | st.text(),
    price=INTEGERS,
    attributes=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
    created_at=MOMENTS,
    updated_at=MOMENTS,
)
post_fields = {
    "id": INTEGERS,
    "title": st.text(),
    "content": st.text(),
    "author": st.fixed_dictionaries({"id": INTEGERS, "username": st.text()}),
    "tags": st.lists(st.text(max_size=32), max_size=10),
    "created_at": MOMENTS,
    "updated_at": MOMENTS,
}
posts = st.builds(PostPublic, **post_fields)
found = st.builds(PostFound, **post_fields, rank=st.none() | FLOATS, snippet=st.none() | st.text())


def pages(page, of):
    return st.builds(page, data=st.lists(of, max_size=4), next=st.none() | st.text(), count=st.none() | INTEGERS)


ANSWERS = st.one_of(
    users,
    private_users,
    items,
    posts,
    found,
    pages(UsersPublic, users),
    pages(ItemsPublic, items),
    pages(PostsPublic, posts),
    pages(PostsFound, found),
)


@settings(max_examples=400, deadline=None)
@given(ANSWERS)
def test_every_answer_is_written_as_pydantic_core_writes_it(answer):
    assert body_of(answer) == pydantic_core(answer)


def test_every_answer_model_takes_orjson():
    models = (
        UserPublic,
        UserPrivate,
        UsersPublic,
        ItemPublic,
        ItemsPublic,
        PostPublic,
        PostsPublic,
        PostFound,
        PostsFound,
    )

    assert all(_writing(model) is not None for model in models)


class Renamed(BaseModel):
    value: int = Field(serialization_alias="v")


class Serialized(BaseModel):
    at: datetime

    @field_serializer("at")
    def _as_timestamp(self, at: datetime) -> float:
        return at.timestamp()


class Computed(BaseModel):
    width: int

    @computed_field
    def doubled(self) -> int:
        return 2 * self.width


class Dropped(BaseModel):
    secret: str = Field(exclude=True)
    shown: str


class Holder(BaseModel):
    user: UserPublic
    users: list[UserPublic]


MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
USER = UserPublic(id=1, username="ann", created_at=MOMENT)
PRIVATE = UserPrivate(id=2, username="bob", created_at=MOMENT, email="bob@example.com")
ITEM_WITH_A_BIG_INTEGER = ItemPublic(
    id=1,
    owner_id=1,
    name="n",
    description=None,
    price=1,
    attributes={"big": 2**64},
    created_at=MOMENT,
    updated_at=MOMENT,
)


@pytest.mark.parametrize(
    "answer",
    [
        Renamed(value=1),
        Serialized(at=MOMENT),
        Computed(width=2),
        Dropped(secret="s", shown="x"),
        Holder(user=PRIVATE, users=[USER, PRIVATE]),  # subclasses written with the declared fields
        ITEM_WITH_A_BIG_INTEGER,
    ],
    ids=["alias", "field serializer", "computed field", "excluded field", "subclass in a field", "big integer"],
)
def test_what_orjson_would_write_otherwise_is_left_to_pydantic_core(answer):
    assert body_of(answer) == pydantic_core(answer)


def test_a_subclass_in_a_field_shows_only_the_fields_declared():
    assert b"bob@example.com" not in body_of(Holder(user=PRIVATE, users=[PRIVATE]))
