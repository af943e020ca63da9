"""The consistency token's form, and where it is declared (tests/test_replicas.py shows it at
work on a real replica)."""

import base64

import pytest

from api.http import consistency

POSITIONS = [0, 1, 0x1_6B37_4D28, 2**63 - 1, 2**64 - 1]


@pytest.mark.parametrize("position", POSITIONS)
def test_a_token_holds_its_wal_position(position):
    token = consistency.token(position)
    assert len(token) == 12 and consistency.position(token) == position
    assert consistency.position(token.encode()) == position


def _with_version(version: int) -> str:
    return base64.urlsafe_b64encode(bytes((version,)) + (42).to_bytes(8, "big")).decode()


@pytest.mark.parametrize(
    "sent",
    [
        "",
        "not-a-token",
        consistency.token(42)[:-1],
        consistency.token(42) + "A",
        consistency.token(42).replace("A", "+").replace("Q", "/"),
        "AQAAAAAAAAAq==",
        "AQAAAAAAAAA=",
        "ÀQAAAAAAAAAq",
        _with_version(2),
    ],
)
def test_anything_but_a_token_of_this_version_names_no_position(sent):
    assert consistency.position(sent) is None


def test_the_token_is_read_from_the_header_first_then_from_the_cookie_when_cookies_are_on():
    header, cookie = consistency.token(7).encode(), consistency.token(9).encode()
    cookies = b"theme=dark; consistency_token=" + cookie + b"; other=1"
    assert consistency.Consistency(header, cookies).wanted(cookie=True) == 7
    assert consistency.Consistency(None, cookies).wanted(cookie=True) == 9
    assert consistency.Consistency(None, cookies).wanted(cookie=False) is None


async def test_without_a_replica_a_write_answers_without_a_token(client, ann):
    created = await client.post("/items/", json={"name": "Lamp", "price": 1}, headers=ann.headers)
    assert created.status_code == 201 and consistency.HEADER_NAME not in created.headers


def test_the_document_declares_the_token_on_every_read_and_every_writes_answer(app):
    document = app.openapi()
    reads = writes = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "get":
                reads += 1
                names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
                assert consistency.HEADER_NAME in names, f"GET {path}"
            elif method in ("post", "patch", "put", "delete"):
                for status, response in operation["responses"].items():
                    if status.startswith("2"):
                        writes += 1
                        assert consistency.HEADER_NAME in response.get("headers", {}), f"{method} {path} {status}"
    assert reads and writes
