"""The OpenAPI document as the contract: every header an answer carries is declared on its
operation and status, 304s where a GET may answer one, parameters a client may leave out
published without `null`, errors whose examples say what their status means here, tags,
servers and a description on every operation, links from each create to what can be done
with it, and Spectral's OpenAPI ruleset with nothing to say.

What is covered is read from the document (tests/inventory.py), not listed here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api import main
from api.config import Settings
from api.http.headers import RESPONSE_HEADERS
from api.http.pagination import PREFER_COUNT
from api.main import EXPOSED_HEADERS, create_app
from tests import inventory
from tests.accounts import Account
from tests.problems import assert_problem

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = [(path, method) for path, operations in inventory.document()["paths"].items() for method in operations]
MISSING_ID = 2**53 - 1
# What a browser sends with a write from a page on an origin the service does not list.
CROSS_ORIGIN_PAGE = {"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"}


def _operation(path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = inventory.document()["paths"][path][method]
    return operation


def undeclared(path: str, method: str, response: httpx.Response) -> list[str]:
    return inventory.undeclared(path, method, response.status_code, response.headers)


# -- requests for every operation --------------------------------------------------------------


def _request_body(path: str, method: str, n: int, account: Account) -> dict[str, Any]:
    """The keyword arguments for httpx that give the operation a body it accepts."""
    body = _operation(path, method).get("requestBody", {}).get("content", {})
    if "application/x-www-form-urlencoded" in body:
        return {"data": {"username": account.username, "password": account.password}}
    if "application/json" in body:
        schema = inventory._resolve(body["application/json"]["schema"])
        sample = inventory.body_of(schema, n)
        if method == "patch":  # one field changed; a password or email change needs more
            first = next(name for name in schema["properties"] if "password" not in name and name != "email")
            sample = {
                first: inventory.body_of(schema, n).get(first) or inventory._sample(schema["properties"][first], n)
            }
        return {"json": sample}
    return {}


async def _variants(client: httpx.AsyncClient, path: str, method: str, account: Account, other: Account):
    """Answers to the operation as a client meets them: as meant, with each header it takes
    used, unsigned, on someone else's or a missing resource, malformed, stale."""
    await inventory.members(client, account)
    members = await inventory.members(client, account)  # two of each: a page of one has a next
    url, operation = inventory.member_url(path, members), _operation(path, method)
    body = _request_body(path, method, 7, account)
    signed = account.headers
    params = {p["name"] for p in operation.get("parameters", ())}
    answers = []

    async def send(target: str = url, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        answer = await client.request(
            method.upper(), target, headers=headers if headers is not None else signed, **kwargs
        )
        answers.append(answer)
        return answer

    if "security" in operation:
        await send(headers={})
        await send(headers={"Authorization": "Bearer forged"})
    if "{" in path:
        await send(inventory.with_id(path, MISSING_ID), **body)
    if "{" in path and method in ("patch", "delete") and "403" in operation["responses"]:
        await send(headers=other.headers, **body)
    if method != "get":
        await send(headers={**signed, **CROSS_ORIGIN_PAGE}, **body)
    if "If-Match" in params:
        await send(headers={**signed, "If-Match": '"stale"'}, **body)
    if "limit" in params:
        await send(params={"limit": 0})
    if body:
        await send(content=b'{"unreadable', headers={**signed, "Content-Type": "application/json"})
        await send(json={"not": "a field"} if "json" in body else None, data={} if "data" in body else None)
    if "Prefer" in params:
        await send(params={"limit": 1}, headers={**signed, "Prefer": "count=exact"})
    if "Idempotency-Key" in params:
        for _ in range(2):  # the second a replay
            await send(
                headers={**signed, "Idempotency-Key": f"contract-{path}"}, **_request_body(path, method, 9, account)
            )
    meant = await send(**body)
    if "If-None-Match" in params and "etag" in meant.headers:
        await send(headers={**signed, "If-None-Match": meant.headers["etag"]})
    return answers


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
async def test_every_header_an_answer_carries_is_declared_for_its_operation_and_status(client, ann, bob, path, method):
    answers = await _variants(client, path, method, ann, bob)

    assert answers
    assert [f"{a.request.method} {a.request.url.path}: {u}" for a in answers for u in undeclared(path, method, a)] == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_with_the_database_down_every_operation_answers_the_503_it_declares(monkeypatch):
    monkeypatch.setattr(main, "stop_process", lambda: None)  # it would end the suite's process
    nowhere = f"postgresql://app@127.0.0.1:{_free_port()}/app"
    app = create_app(Settings(database_url=nowhere, connect_attempts=100, connect_timeout=1, _env_file=None))
    somebody = Account(1, "ann", "ann@example.com", "ann has a long passphrase", "t" * 43)
    answers = []
    async with (
        LifespanManager(app, startup_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        for path, method in OPERATIONS:
            body = _request_body(path, method, 1, somebody)
            sent = await client.request(method.upper(), inventory.with_id(path, 1), headers=somebody.headers, **body)
            answers.append((path, method, sent))

    assert {sent.status_code for path, _, sent in answers if path != "/health/live"} == {503}, [
        (p, m, a.status_code, a.text[:300]) for p, m, a in answers if a.status_code != 503
    ]
    assert all(sent.headers["retry-after"] for _, _, sent in answers if sent.status_code == 503)
    assert [f"{m.upper()} {p}: {u}" for p, m, sent in answers for u in undeclared(p, m, sent)] == []


def test_the_check_finds_an_undeclared_header():
    path, method = "/items/{item_id}", "get"
    answer = httpx.Response(200, headers={"ETag": '"x"', "X-Request-ID": "r", "X-Powered-By": "python"})

    assert undeclared(path, method, answer) == ["200 x-powered-by"]
    assert undeclared(path, method, httpx.Response(418)) == ["status 418"]


def test_every_conditional_get_declares_its_304_and_if_none_match():
    for path, operations in inventory.document()["paths"].items():
        get = operations.get("get")
        if get is None or "ETag" not in get["responses"]["200"].get("headers", {}):
            continue
        assert "304" in get["responses"], path
        assert "ETag" in get["responses"]["304"]["headers"], path
        assert "If-None-Match" in {p["name"] for p in get["parameters"]}, path
    assert "304" in _operation("/items/{item_id}", "get")["responses"]


def test_every_header_a_browser_may_read_is_declared():
    declared = {
        name
        for _, operations in inventory.document()["paths"].items()
        for operation in operations.values()
        for response in operation["responses"].values()
        for name in response.get("headers", {})
    }

    assert set(EXPOSED_HEADERS) <= declared
    assert set(RESPONSE_HEADERS) <= declared  # no description kept for a header never sent


# -- parameters ----------------------------------------------------------------------------------


def test_no_parameter_is_published_as_nullable():
    nullable = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in inventory.document()["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", ())
        if "null" in json.dumps(parameter["schema"])
    ]
    assert nullable == []


def _parameter(path: str, method: str, name: str) -> dict[str, Any]:
    return next(p for p in _operation(path, method)["parameters"] if p["name"] == name)


def test_request_headers_are_published_with_their_formats():
    if_match = _parameter("/items/{item_id}", "patch", "If-Match")
    key = _parameter("/items/", "post", "Idempotency-Key")
    cursor = _parameter("/items/", "get", "cursor")

    assert if_match["schema"]["type"] == "string" and if_match["schema"]["pattern"]
    assert key["schema"]["type"] == "string" and key["schema"]["pattern"]
    assert cursor["schema"]["pattern"] and "opaque" in cursor["description"].lower()


# What each header's pattern must take, and must not: an entity-tag list or `*`; a preference
# list of any preferences (RFC 7240 has the others ignored), the honoured one among them.
FORMATS = {
    "If-None-Match": (['"a1"', 'W/"a1"', '"a1", W/"b2"', "*"], ["a1", '"a1" "b2"', '*, "a1"', ""]),
    "Prefer": (
        [PREFER_COUNT, f"respond-async, {PREFER_COUNT}", 'return=minimal; foo="a b"', "handling=lenient"],
        ["", "count = exact exact", "=exact", "count=exact,,"],
    ),
}


@pytest.mark.parametrize("name", FORMATS)
def test_conditional_and_preference_headers_are_published_with_their_formats(name):
    declared = [
        parameter["schema"]
        for operations in inventory.document()["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", ())
        if parameter["name"] == name
    ]
    taken, refused = FORMATS[name]

    assert declared and all(schema == declared[0] for schema in declared)
    assert declared[0]["type"] == "string"
    assert all(re.fullmatch(declared[0]["pattern"], value) for value in taken)
    assert not any(re.fullmatch(declared[0]["pattern"], value) for value in refused)


@pytest.mark.parametrize("header", ["null", "not-quoted", '"a" "b"'])
async def test_an_if_match_that_is_no_entity_tag_is_refused_and_changes_nothing(client, ann, header):
    item = (await client.post("/items/", json={"name": "Lamp", "price": 1}, headers=ann.headers)).json()

    response = await client.patch(
        f"/items/{item['id']}", json={"price": 2}, headers={**ann.headers, "If-Match": header}
    )

    assert_problem(response, 422)
    assert (await client.get(f"/items/{item['id']}")).json()["price"] == 1


async def test_a_cursor_that_is_not_one_the_service_hands_out_is_refused(client):
    assert_problem(await client.get("/items/", params={"cursor": "not a cursor!"}), 422)


# -- errors, tags, servers, descriptions ---------------------------------------------------------


def test_each_error_status_has_an_example_of_its_own():
    examples: dict[str, set[str]] = {}
    for _, operations in inventory.document()["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    if "application/problem+json" not in response["content"]:  # OAuth2's, at the token endpoint
                        assert response["content"]["application/json"]["example"]["error"] == "invalid_grant"
                        continue
                    example = response["content"]["application/problem+json"]["example"]
                    assert example["status"] == int(status)
                    examples.setdefault(status, set()).add(example["detail"])
    details = [detail for found in examples.values() for detail in found]
    assert len(examples) >= 8 and len(details) == len(set(details))


def test_tags_servers_and_descriptions_are_declared():
    document = inventory.document()
    declared = {tag["name"]: tag.get("description") for tag in document.get("tags", ())}
    used = {tag for operations in document["paths"].values() for op in operations.values() for tag in op["tags"]}

    assert used <= declared.keys() and all(declared.values())
    assert document["servers"] and document["servers"][0]["url"] == "/"
    assert [
        f"{m.upper()} {p}" for p, ops in document["paths"].items() for m, op in ops.items() if not op.get("description")
    ] == []


def test_every_create_links_to_the_reads_changes_and_deletes_of_what_it_made():
    document = inventory.document()
    operation_ids = {
        op["operationId"]: (path, method) for path, ops in document["paths"].items() for method, op in ops.items()
    }
    for name in inventory.collections():
        created = document["paths"][f"/{name}/"]["post"]["responses"]["201"]
        linked = {operation_ids[link["operationId"]] for link in created["links"].values()}
        member = next(p for p in document["paths"] if inventory.ID_PARAMETER.fullmatch(p.removeprefix(f"/{name}/")))
        assert {(member, method) for method in document["paths"][member]} <= linked, name
        assert all(link["parameters"] for link in created["links"].values())


# -- unreadable bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b'{"name": ', b"\xff\xfe{}"], ids=["malformed", "not-utf-8"])
async def test_an_unreadable_json_body_is_a_400_as_documented(client, ann, content):
    headers = {**ann.headers, "Content-Type": "application/json"}
    for path, method in OPERATIONS:
        operation = _operation(path, method)
        if "application/json" not in operation.get("requestBody", {}).get("content", {}):
            continue
        assert "400" in operation["responses"], f"{method} {path}"
        response = await client.request(
            method.upper(), inventory.with_id(path, ann.id), content=content, headers=headers
        )
        assert_problem(response, 400)


# -- Spectral ------------------------------------------------------------------------------------


def _spectral() -> str | None:
    """Spectral's CLI: on PATH, or where .ci/run installs it."""
    found = shutil.which("spectral")
    installed = (
        Path(os.environ.get("SPECTRAL_HOME", Path.home() / ".cache" / "api-spectral")) / "node_modules/.bin/spectral"
    )
    return found or (str(installed) if installed.exists() else None)


@pytest.mark.skipif(
    _spectral() is None, reason="Spectral is not installed (.ci/run installs it with npm where node is)"
)
def test_spectral_finds_nothing_to_say_about_the_document(tmp_path):
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(inventory.document()))

    run = subprocess.run(
        [
            _spectral(),
            "lint",
            "--ruleset",
            str(ROOT / ".spectral.yaml"),
            "--fail-severity",
            "hint",
            "-f",
            "json",
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    # The JSON report, then (since Spectral 6) a line of its own about it.
    found = json.JSONDecoder().raw_decode(run.stdout[run.stdout.index("[") :])[0] if "[" in run.stdout else None
    assert found == [], run.stdout + run.stderr
    assert run.returncode == 0
