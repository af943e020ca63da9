"""A query parameter that takes one value is given once: `?limit=1&limit=01` is a 422.

FastAPI reads only the last value of a repeated key for a parameter that is not a list, so
`?limit=01&limit=1` was a 200 that quietly dropped a value no canonical form would allow, and
two clients could mean different things by one URL. `one_value_each` runs before every
route's own parameters (the app's dependency, on both roads): a key the route reads as a
single value and that comes more than once is refused, naming the parameter. List-typed
parameters (`attr`, repeatable by design) are left as they are; a key the route does not
read is never looked at.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.exceptions import RequestValidationError

# What FastAPI reads as every value of a repeated key.
SEQUENCES = (list, tuple, set, frozenset)


def _repeatable(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_repeatable(option) for option in get_args(annotation))
    return annotation in SEQUENCES or get_origin(annotation) in SEQUENCES


def _query_fields(dependant: Any) -> Iterator[Any]:
    """The query parameters of a route's endpoint and of every dependency it has."""
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def single_value_names(route: Any) -> set[str]:
    """The query keys this route reads as one value. Worked out only when a key comes twice,
    which hardly any request does."""
    dependant = getattr(route, "dependant", None)
    fields = _query_fields(dependant) if dependant is not None else ()
    return {field.alias for field in fields if not _repeatable(field.field_info.annotation)}


async def one_value_each(request: Request) -> None:
    if b"&" not in request.scope["query_string"]:
        return  # most requests: one key at most, nothing to count
    query = request.query_params
    if len(query) == len(query.multi_items()):
        return  # no key given twice
    single = single_value_names(request.scope.get("route"))
    repeated = [name for name in dict.fromkeys(query.keys()) if name in single and len(query.getlist(name)) > 1]
    if repeated:
        raise RequestValidationError(
            [
                {"type": "repeated", "loc": ("query", name), "msg": "must be given once", "input": None}
                for name in repeated
            ]
        )
