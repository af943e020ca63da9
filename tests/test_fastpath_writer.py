"""Answers are written byte for byte as pydantic-core writes them, whichever writer runs
(api/responses.py): orjson for models that write their fields as they are, pydantic-core
for the rest."""

import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, JsonValue, computed_field, field_serializer
from typing_extensions import is_typeddict

from api.config import Settings
from api.fastpath.writer import _writing
from api.fastpath.writer import orjson_bytes as body_of
from api.main import create_app
from api.resources.items.schemas import ItemPublic
from api.resources.users.schemas import UserPrivate, UserPublic


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


def _strategy(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of a response model's field type, edges included (big integers, time zones)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is JsonValue:
        return JSON_VALUES
    if annotation in LEAVES:
        return LEAVES[annotation]
    if origin is typing.Annotated:
        return _strategy(args[0])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_strategy(arg) for arg in args])
    if origin is list:
        return st.lists(_strategy(args[0]), max_size=4)
    if origin is dict:
        return st.dictionaries(st.text(max_size=8), _strategy(args[1]), max_size=4)
    if is_typeddict(annotation):
        return st.fixed_dictionaries(
            {name: _strategy(hint) for name, hint in typing.get_type_hints(annotation).items()}
        )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return st.builds(
            annotation, **{name: _strategy(field.annotation) for name, field in annotation.model_fields.items()}
        )
    raise TypeError(f"no strategy for {annotation!r}: teach _strategy this type")


LEAVES = {int: INTEGERS, float: FLOATS, str: st.text(), bool: st.booleans(), type(None): st.none(), datetime: MOMENTS}


def _response_models() -> list[type[BaseModel]]:
    """Every model a route of the app answers with, as declared on the route."""
    app = create_app(Settings(_env_file=None, database_url="postgresql://unused/unused"))
    return sorted(
        {
            context.response_model
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            and isinstance(context.response_model, type)
            and issubclass(context.response_model, BaseModel)
        },
        key=lambda model: model.__name__,
    )


RESPONSE_MODELS = _response_models()


@pytest.mark.parametrize("model", RESPONSE_MODELS, ids=[model.__name__ for model in RESPONSE_MODELS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_answer_is_written_as_pydantic_core_writes_it(model, data):
    answer = data.draw(_strategy(model))

    assert body_of(answer) == pydantic_core(answer)


def test_every_answer_model_takes_orjson():
    assert len(RESPONSE_MODELS) >= 8
    assert [model.__name__ for model in RESPONSE_MODELS if _writing(model) is None] == []


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
