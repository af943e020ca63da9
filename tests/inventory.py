"""What the generic tests cover, read from the app's own OpenAPI document: the lists, the
collections whose members only their owner may change, and bodies that a create accepts.
A new resource is covered by them without anyone adding it to a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import httpx

from api.config import Settings
from api.http.openapi import DESCRIPTIONS
from api.main import create_app
from tests.accounts import Account

ID_PARAMETER = re.compile(r"\{[a-z_]+_id\}")


@cache
def document() -> dict[str, Any]:
    return create_app(Settings(_env_file=None, database_url="postgresql://unused/unused")).openapi()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return dict(document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def _json_schema(operation: dict[str, Any], part: str) -> dict[str, Any] | None:
    holder = operation.get("requestBody", {}) if part == "request" else operation["responses"].get("200", {})
    content = holder.get("content", {}).get("application/json")
    return _resolve(content["schema"]) if content else None


# What HTTP itself puts on an answer, which OpenAPI says not to declare (Content-Type), or
# which frames the message rather than says anything of the resource.
FRAMING = {"content-type", "content-length", "date", "server", "transfer-encoding", "connection"}


def undeclared(path: str, method: str, status: int, headers: Iterable[str]) -> list[str]:
    """The status, or the headers, of an answer that its operation does not declare."""
    declared = document()["paths"][path][method.lower()]["responses"].get(str(status))
    if declared is None:
        return [f"status {status}"]
    names = {name.lower() for name in declared.get("headers", {})}
    return [f"{status} {name.lower()}" for name in headers if name.lower() not in FRAMING | names]


def lists() -> list[str]:
    """Every GET whose answer is a page (`data` and `next`), its path as in the document."""
    found = []
    for path, operations in document()["paths"].items():
        answer = _json_schema(operations["get"], "response") if "get" in operations else None
        if answer and {"data", "next"} <= answer.get("properties", {}).keys():
            found.append(path)
    return found


def with_id(path: str, resource_id: int) -> str:
    """The path with every `{…_id}` parameter set to the id."""
    return ID_PARAMETER.sub(str(resource_id), path)


def collections() -> list[str]:
    """Every collection one creates members of with POST, by name (`items`)."""
    return [
        path.strip("/")
        for path, operations in document()["paths"].items()
        if "post" in operations and path.count("/") == 2 and path.endswith("/") and "requestBody" in operations["post"]
    ]


def owned() -> list[str]:
    """Collections whose members only their owner may change or delete (a 403 for others)."""
    found = []
    for name in collections():
        member = next(
            (path for path in document()["paths"] if ID_PARAMETER.fullmatch(path.removeprefix(f"/{name}/"))), None
        )
        operations = document()["paths"].get(member, {}) if member else {}
        if all(_owners_only(operations.get(method, {})) for method in ("patch", "delete")):
            found.append(name)
    return found


def _owners_only(operation: dict[str, Any]) -> bool:
    """Whether the operation declares the owner's 403 (every write declares the 403 of a page
    on another origin too: api/http/cross_origin.py)."""
    refusal = operation.get("responses", {}).get("403", {})
    return refusal.get("description", "").startswith(DESCRIPTIONS[403])


def needs_token(name: str) -> bool:
    return "security" in document()["paths"][f"/{name}/"]["post"]


def _sample(schema: dict[str, Any], n: int) -> Any:
    schema = _resolve(schema)
    if "anyOf" in schema:
        return _sample(next(option for option in schema["anyOf"] if option.get("type") != "null"), n)
    if schema.get("format") == "email":  # an example varied at its end would be no email
        return f"person{n}@example.com"
    if "examples" in schema:
        example = schema["examples"][0]
        varied = f"{example}{n}" if isinstance(example, str) else example
        fits = isinstance(varied, str) and re.fullmatch(schema.get("pattern", ".*"), varied)
        return varied if fits and len(varied) <= schema.get("maxLength", len(varied)) else example
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "email":
            return f"person{n}@example.com"
        return f"Lamp {n}".ljust(schema.get("minLength", 0), ".")
    if kind == "integer":
        return max(schema.get("minimum", 0), n)
    if kind == "array":
        return []
    if kind == "object":
        return body_of(schema, n) if "properties" in schema else {}
    raise ValueError(f"no sample for {schema}")


def body_of(schema: dict[str, Any], n: int) -> dict[str, Any]:
    """A body the schema accepts: every required property, and the optional ones with examples."""
    properties = schema.get("properties", {})
    wanted = [
        name for name, spec in properties.items() if name in schema.get("required", ()) or "examples" in _resolve(spec)
    ]
    return {name: _sample(properties[name], n) for name in wanted}


def new(name: str, n: int) -> dict[str, Any]:
    """The n-th body that creates a member of the collection."""
    schema = _json_schema(document()["paths"][f"/{name}/"]["post"], "request")
    assert schema is not None, f"POST /{name}/ takes no JSON body"
    return body_of(schema, n)


def change(name: str) -> dict[str, Any]:
    """A body that changes one field of a member of the collection."""
    member = next(path for path in document()["paths"] if ID_PARAMETER.fullmatch(path.removeprefix(f"/{name}/")))
    schema = _json_schema(document()["paths"][member]["patch"], "request")
    assert schema is not None
    first, spec = next(iter(schema["properties"].items()))
    return {first: _sample(spec, 99)}


def body_for(operation: dict[str, Any], n: int) -> dict[str, Any] | None:
    """A JSON body the operation accepts; None when it takes none (or takes a form)."""
    schema = _json_schema(operation, "request")
    return body_of(schema, n) if schema is not None else None


async def members(client: httpx.AsyncClient, account: Account) -> dict[str, int]:
    """One new member of every collection, by collection name; for users, the account itself."""
    made = {"users": account.id}
    for name in collections():
        if name != "users":
            created = await client.post(f"/{name}/", json=new(name, 0), headers=account.headers)
            assert created.status_code == 201, created.text
            made[name] = created.json()["id"]
    return made


def member_url(path: str, made: dict[str, int]) -> str:
    """The path with its id set to the member of its collection (a user's for the others)."""
    name = path.strip("/").split("/")[0]
    return with_id(path, made.get(name, made["users"]))
