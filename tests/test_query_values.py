"""A query parameter that takes one value, given twice, is a 422 naming it, on every route and
both roads; a list parameter repeats. The parameters are read from the app's own document."""

import httpx
import pytest

from tests import inventory
from tests.problems import error_locations


def _query_parameters() -> list[tuple[str, str, str, bool]]:
    """(method, path, name, repeatable) for every query parameter of every operation."""
    return [
        (method, path, parameter["name"], _repeatable(parameter["schema"]))
        for path, operations in inventory.document()["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]


def _repeatable(schema: dict) -> bool:
    return any(option.get("type") == "array" for option in schema.get("anyOf", [schema]))


PARAMETERS = _query_parameters()
SINGLE = [(m, p, n) for m, p, n, repeatable in PARAMETERS if not repeatable]
REPEATABLE = [(m, p, n) for m, p, n, repeatable in PARAMETERS if repeatable]


async def ask(app, ann, method: str, path: str, query: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.request(method.upper(), f"{inventory.with_id(path, ann.id)}?{query}", headers=ann.headers)


@pytest.mark.parametrize(("method", "path", "name"), SINGLE, ids=[f"{m.upper()} {p} {n}" for m, p, n in SINGLE])
async def test_a_single_valued_query_parameter_given_twice_is_a_422_naming_it(both, ann, method, path, name):
    """FastAPI reads only the last value: `limit=01&limit=1` was a 200 carrying `limit=01`."""
    for app in both.values():
        for query in (f"{name}=01&{name}=1", f"{name}=1&{name}=1", f"{name}=&{name}=1"):
            assert error_locations(await ask(app, ann, method, path, query)) == [["query", name]], query


@pytest.mark.parametrize(("method", "path", "name"), REPEATABLE, ids=[f"{m.upper()} {p} {n}" for m, p, n in REPEATABLE])
async def test_a_list_query_parameter_repeats(both, ann, method, path, name):
    for app in both.values():
        assert (await ask(app, ann, method, path, f"{name}=a:1&{name}=b:2")).status_code == 200


def test_the_document_has_both_kinds_of_query_parameter():
    assert len(SINGLE) >= 10 and REPEATABLE
