"""What clients send and receive for items."""

import json
import math
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, StringConstraints
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from api.http.pagination import Page
from api.resources.fields import CANONICAL_INT, JSON_NUMBER, MAX_JSON_INT, NO_NUL, json_int_range, stored_text

MAX_ATTRIBUTES_BYTES = 4096


def _holds_nul(value: JsonValue) -> bool:
    """A NUL character in any key or string, at any depth: the parsed value is what counts (the
    six characters backslash, u, 0, 0, 0, 0 typed in a string are text like any other)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _storable_json(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """jsonb stores neither NUL nor NaN or infinities, and the object has a size cap, counted in
    UTF-8 bytes as sent."""
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise ValueError("numbers must be finite") from None
    if _holds_nul(value):
        raise ValueError("must not contain NUL characters")
    if len(encoded.encode()) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"must be at most {MAX_ATTRIBUTES_BYTES} bytes as JSON")
    return value


ItemName = Annotated[str, stored_text(1, 200, blank=False), Field(description="What the item is called.")]
ItemDescription = Annotated[str, stored_text(0, 2000), Field(description="A longer description.")]
Price = Annotated[int, json_int_range(0, "Price in cents, zero or more."), JSON_NUMBER]
Attributes = Annotated[
    dict[str, JsonValue],
    AfterValidator(_storable_json),
    Field(
        description=f"Free-form properties: a JSON object of at most {MAX_ATTRIBUTES_BYTES} bytes, with no NUL "
        "character in any key or string, at any depth. Integers of any size are kept exactly.",
        json_schema_extra={"propertyNames": {"pattern": NO_NUL}},
    ),
]


# A filter no item can pass: one key asked to hold two different values.
NOTHING_MATCHES: dict[str, JsonValue] = {}


def _not_a_constant(name: str) -> float:
    raise ValueError(name)  # NaN and Infinity: not JSON, read as the string written


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate, which jsonb refuses
        return False
    return True


def _scalar(raw: str) -> str | int | float | bool:
    """A filter's value: the JSON number, boolean or quoted string it reads as, else the string
    as written. Integers of any size stay exact (the standard library's parser, as jsonb's codec
    uses: orjson stops at 64 bits); NaN, infinities and null are strings.

    Strict, as every query value is: the JSON parser skips white space around a literal, so
    `n: 10` read as 10; a value with white space (any Unicode space) at either end is refused,
    quoted or not. A number that is an integer is written as one, once: `-0`, `1.0` and `1e1`
    match what `0`, `1` and `10` match in jsonb, and are refused."""
    if raw != raw.strip():
        raise ValueError("must not begin or end with white space")
    try:
        value = json.loads(raw, parse_constant=_not_a_constant)
    except ValueError:  # not JSON, or an integer past Python's digit limit
        return raw
    if isinstance(value, float) and not math.isfinite(value):  # 1e999
        return raw
    if isinstance(value, str) and not _encodable(value):  # "\ud800"
        return raw
    # An int's str() is its one form: CANONICAL_INTEGER's digits, a minus sign if below zero.
    if isinstance(value, int) and not isinstance(value, bool) and str(value) != raw:
        raise ValueError("an integer is written in digits, without leading zero or -0")
    if isinstance(value, float) and value.is_integer():
        raise ValueError("an integer is written in digits, without a fraction or an exponent")
    return value if isinstance(value, str | int | float | bool) else raw


def _containment(pairs: list[str] | None) -> dict[str, JsonValue] | None:
    """`color:red` and `size:10` become {"color": "red", "size": 10}: a value that reads as a
    JSON number, boolean or quoted string is that; anything else is the string as written.
    `color:red` and `color:blue` together ask for both at once: NOTHING_MATCHES."""
    if not pairs:
        return None
    wanted: dict[str, JsonValue] = {}
    for pair in pairs:
        key, _, raw = pair.partition(":")
        value = _scalar(raw)
        if _holds_nul(value):  # "\u0000" in quotes reads as a real NUL, which jsonb cannot hold
            raise ValueError("must not contain NUL characters")
        held = wanted.setdefault(key, value)
        if type(held) is not type(value) or held != value:  # 1 and true are equal in Python, not in jsonb
            return NOTHING_MATCHES
    return wanted


def attribute_pairs(wanted: dict[str, JsonValue] | None) -> list[str] | None:
    """The filter as a next link spells it: each pair once, its value as JSON (a string
    quoted), which reads back as the same filter."""
    if not wanted:
        return None
    return [f"{key}:{json.dumps(value, ensure_ascii=False)}" for key, value in wanted.items()]


# What str.strip() takes off: the value of a pair neither begins nor ends with one of these
# (_scalar), and the published pattern says so, for clients and fuzzers alike.
WHITE_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
AttributePair = Annotated[
    str,
    StringConstraints(pattern=rf"^[^:\x00]{{1,100}}:([^\x00{WHITE_SPACE}]([^\x00]{{0,498}}[^\x00{WHITE_SPACE}])?)?$"),
]
if TYPE_CHECKING:
    AttributeFilter = dict[str, JsonValue] | None  # what a handler gets: the pairs, decoded
else:
    AttributeFilter = Annotated[
        list[AttributePair] | None,
        Query(
            max_length=10,
            description="`key:value`, repeatable: items whose attributes hold every pair. `size:10` is the number, "
            '`size:"10"` the string. An integer is written in its one form: `-0`, `1.0` and `1e1` are refused.',
        ),
        AfterValidator(_containment),
    ]
PriceBound = Annotated[
    int | None, Query(ge=0, le=MAX_JSON_INT, description="Price bound in cents, inclusive."), CANONICAL_INT
]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ItemName
    description: ItemDescription | None = None
    price: Price
    attributes: Attributes = Field(default_factory=dict)


class ItemUpdate(TypedDict, total=False):
    """The fields to change; a field left out stays as it is. `attributes` is replaced whole."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    name: ItemName
    description: ItemDescription | None
    price: Price
    attributes: Attributes


class ItemPublic(BaseModel):
    id: int
    owner_id: int | None = Field(description="The user who created it; null for items older than owners.")
    name: str
    description: str | None
    price: int
    attributes: dict[str, JsonValue]
    created_at: datetime
    updated_at: datetime


class ItemsPublic(Page[ItemPublic]):
    pass
