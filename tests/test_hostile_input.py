"""Hostile bytes in every path segment and query value of every operation: no 5xx, every
header one uvicorn sends as it is, and a path or query integer or boolean in any form but its
canonical one is a 422, whatever the method. The operations, their parameters and their
bodies are read from the app's own document; writes are sent signed in with a body they
accept, so their parameters are parsed, not stopped at a 401. hypothesis draws arbitrary
code points and bytes, and near-misses of a canonical integer (`01`, `+1`, `1_0`, `1\\n`,
`1\\u2028`). Both roads answer: the accelerator and stock FastAPI; a bounded sample of the
same values goes to a real uvicorn over a socket."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.resources.fields import CANONICAL_BOOLEAN, CANONICAL_INTEGER
from tests import inventory
from tests.accounts import Account, new_account
from tests.processes import DEADLINE, started, until_answered

PARAMETER = re.compile(r"\{([a-z_]+)\}")
# What a header may hold on the wire: visible ASCII, space and tab (RFC 9110's field-vchar,
# less obs-text). A CR or LF makes uvicorn drop the connection; anything past 0x7e, a 500.
HEADER_BYTE = re.compile(rb"[\t\x20-\x7e]*")
# ... and as h11 checks what it sends: a token for a name; for a value, visible characters
# with spaces or tabs only between them (RFC 9110's field-value, less obs-text).
HEADER_NAME = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(rb"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?")

NEAR_MISSES = ["01", "+1", "-1", "1_0", " 1", "1 ", "1\n", "1\r", "1\x0b", "1\x0c", "1\t", "1\u00a0", "1\u2028",
               "\u0661", "1.0", "1e2", "0x1", "1\x00", "True", "TRUE", "yes", "on", "1/", "%31"]  # fmt: skip


def _segments() -> st.SearchStrategy[bytes]:
    """A value as bytes: arbitrary text (UTF-8), arbitrary bytes, or a near-miss."""
    text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12).map(str.encode)
    return st.one_of(text, st.binary(max_size=12), st.sampled_from(NEAR_MISSES).map(str.encode))


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in inventory.document()["paths"].items()
        for method, operation in operations.items()
    ]


OPERATIONS = _operations()


def _strict_type(operation: dict[str, Any], where: str, name: str) -> str | None:
    """`integer` or `boolean` for a parameter held to its canonical form, else None."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == where and parameter["name"] == name:
            schema = parameter["schema"]
            kinds = {option.get("type") for option in schema.get("anyOf", [schema])} - {"null"}
            return next(iter(kinds & {"integer", "boolean"}), None)
    return None


def _canonical(kind: str, value: bytes) -> bool:
    text = value.decode(errors="replace")
    return bool(CANONICAL_INTEGER.fullmatch(text)) if kind == "integer" else text in CANONICAL_BOOLEAN


@pytest.fixture(scope="module")
async def account(both) -> Account:
    """A signed-in account with two of everything, so that a list with `limit=1` has a next page."""
    transport = httpx.ASGITransport(app=both["off"])
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        account = await new_account(client, "hostile")
        await new_account(client, "hostile-too")
        for name in inventory.collections():
            if name != "users":
                for n in (1, 2):
                    await client.post(f"/{name}/", json=inventory.new(name, n), headers=account.headers)
        return account


class Writer:
    """The account writes are sent with, made again whenever a write ended it (signing out,
    deleting the account), so that every write gets past its token to its parameters. It
    owns nothing `account` made: a change of those is a 403, after its parameters parsed."""

    def __init__(self, app) -> None:
        self.app = app
        self.made = 0
        self.current: Account | None = None

    async def headers(self) -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test") as client:
            alive = self.current and (await client.get("/users/me", headers=self.current.headers)).status_code == 200
            if not alive:
                self.made += 1
                self.current = await new_account(client, f"hostile-writer-{self.made}")
        assert self.current is not None
        return self.current.headers


@pytest.fixture(scope="module")
def writer(both, account) -> Writer:
    return Writer(both["off"])


BODIES = itertools.count(1000)  # each request's body its own (a new user's email), so both roads answer alike


def request_for(operation: dict[str, Any]) -> dict[str, Any]:
    """What goes with the request beside its URL: a body the operation accepts, if it takes one."""
    body = inventory.body_for(operation, next(BODIES))
    return {} if body is None else {"json": body}


def assert_plain_headers(response: httpx.Response) -> None:
    for name, value in response.headers.raw:
        assert HEADER_BYTE.fullmatch(name) and HEADER_BYTE.fullmatch(value), (name, value)
        assert HEADER_NAME.fullmatch(name) and HEADER_VALUE.fullmatch(value), (name, value)
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS]
)
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_hostile_bytes_in_any_path_segment_or_query_value_never_break_an_answer(
    both, account, writer, method, path, operation, data
):
    in_path = {name: data.draw(_segments(), label=name) for name in PARAMETER.findall(path)}
    query_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"] + ["stray"]
    in_query = {name: data.draw(st.none() | _segments(), label=name) for name in query_names}
    if "limit" in in_query and data.draw(st.booleans(), label="a next page"):
        in_query["limit"] = b"1"
    url = PARAMETER.sub(lambda found: quote(in_path[found[1]], safe=""), path)
    slash_flipped = data.draw(st.booleans(), label="trailing slash added or taken off")  # a redirect
    if slash_flipped:
        url = url.removesuffix("/") if url.endswith("/") else f"{url}/"
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in in_query.items() if value is not None)

    answers = {}
    for mode, app in both.items():
        headers = account.headers if method == "get" else await writer.headers()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            answers[mode] = response = await client.request(
                method.upper(), f"{url}?{query}" if query else url, headers=headers, **request_for(operation)
            )
        assert response.status_code < 500, (mode, response.text)
        assert_plain_headers(response)
    assert answers["on"].status_code == answers["off"].status_code

    routed = not slash_flipped and not any(b"/" in v or v in (b"", b".", b"..") for v in in_path.values())
    refused = [
        name
        for where, values in (("path", in_path), ("query", in_query))
        for name, value in values.items()
        if value is not None
        and (kind := _strict_type(operation, where, name))
        and not _canonical(kind, value)
        and value != b""  # an empty query value is the parameter left out
    ]
    if routed and refused:
        assert answers["on"].status_code == 422, (refused, answers["on"].text)
        assert {error["loc"][-1] for error in answers["on"].json()["errors"]} >= set(refused)


# What the issue found against a real server: a CR, LF, VT or FF after an id dropped the
# connection (uvicorn refused the Link header it was given), U+2028 was a 500, and spaces or
# other forms of an id were taken.
CUTS = ("%0A", "%0D", "%0B", "%0C", "%E2%80%A8", "%20", "%09", "%C2%A0")
OTHER_FORMS = ["/items/01", "/items/+1", "/items/1_0", "/posts/%201", "/users/%D9%A1"]


async def raw_request(
    port: int, target: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[bytes, list[bytes], bytes]:
    """One request on a socket of its own: the status line, the header lines and the body, read
    to the end (a dropped connection reads as no status line)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write("\r\n".join([*lines, "", ""]).encode() + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), DEADLINE)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *headers = head.split(b"\r\n")
    return status, headers, body


@pytest.fixture(scope="module")
def served(database_url) -> Iterator[int]:
    """The service on uvicorn, a process of its own, on the suite's database."""
    with started("api.tools.serve", DATABASE_URL=database_url) as (server, base):
        yield server, base


async def test_the_ids_that_crashed_a_real_server_are_a_422_with_plain_headers(served, account):
    server, base = served
    async with httpx.AsyncClient(base_url=base) as client:
        await until_answered(client, f"{base}/health/live", server)
    port = int(base.rsplit(":", 1)[1])

    crashed = [f"/users/{account.id}{cut}/posts?limit=1" for cut in CUTS]  # two posts: a next link
    for target in crashed + OTHER_FORMS:
        status, headers, body = await raw_request(port, target)
        assert status.startswith(b"HTTP/1.1 422 "), (target, status, body)
        assert all(HEADER_BYTE.fullmatch(line) for line in headers), (target, headers)
        assert json.loads(body)["errors"][0]["loc"][0] == "path", target
    assert server.poll() is None


# A bounded sample of what hypothesis draws, for the wire: near-misses, bytes that are no
# UTF-8, controls, Unicode spaces and separators, each sent once in every path segment and
# query value of every operation.
ON_THE_WIRE = [value.encode() for value in NEAR_MISSES] + [
    b"\xff",
    b"\xc3",
    b"\x7f",
    b"\x1f",
    b"1\x85",
    "1\u3000".encode(),
    "\u202e1".encode(),
    b"%",
    b"'\"<>",
    b"1" * 30,
]


async def test_a_sample_of_hostile_values_on_every_operation_never_breaks_a_real_server(served, account, writer):
    """What uvicorn sends is what counts: a header h11 or httptools refuses drops the connection."""
    server, base = served
    async with httpx.AsyncClient(base_url=base) as client:
        await until_answered(client, f"{base}/health/live", server)
    port = int(base.rsplit(":", 1)[1])

    broken = []
    for method, path, operation in OPERATIONS:
        queried = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"] + ["stray"]
        parsed = PARAMETER.search(path) or len(queried) > 1  # else only `stray`, which nothing reads
        for value in ON_THE_WIRE if parsed else ON_THE_WIRE[:3]:
            escaped = quote(value, safe="")
            target = PARAMETER.sub(escaped, path) + "?" + "&".join(f"{name}={escaped}" for name in queried)
            headers = account.headers if method == "get" else await writer.headers()
            body = json.dumps(inventory.body_for(operation, next(BODIES)) or {}).encode()
            status, lines, answer = await raw_request(port, target, method.upper(), headers, body)
            refused = [
                name
                for where, names in (("path", PARAMETER.findall(path)), ("query", queried))
                for name in names
                if (kind := _strict_type(operation, where, name)) and not _canonical(kind, value)
            ]
            plain = all(b": " in line and _plain_header(*line.split(b": ", 1)) for line in lines)
            routed = b"/" not in value or not PARAMETER.search(path)  # a slash in a segment is another path
            errors = json.loads(answer)["errors"] if status.startswith(b"HTTP/1.1 422 ") else []
            named = set(refused) <= {error["loc"][-1] for error in errors}
            wanted = b"HTTP/1.1 422 " if refused and routed else b"HTTP/1.1 "
            if not (status.startswith(wanted) and status[9:10] != b"5" and plain and (named or not routed)):
                broken.append((method, target, status, lines, answer[:200]))
    assert broken == [], "\n".join(map(repr, broken))
    assert server.poll() is None


def _plain_header(name: bytes, value: bytes) -> bool:
    return bool(HEADER_NAME.fullmatch(name) and HEADER_VALUE.fullmatch(value))
