"""The lean request path (api.routing) answers exactly as FastAPI's own handler would.

Each request below is sent twice through the real app: once on the lean path, once with every
route's handler put back to the one FastAPI built for it. Status, headers and body must be the
same, errors included.
"""

import pytest
from fastapi.routing import APIRoute

from api.routing import LeanRoute

# Routes FastAPI serves itself, and why: the sign-in form, and health checks returning models.
FASTAPI_SERVED = {"/auth/token", "/health/live", "/health/ready"}

VARYING = {"x-request-id", "date"}


def test_every_route_but_the_documented_ones_takes_the_lean_path(app):
    routes = [route for route in app.routes if isinstance(route, APIRoute) and route.include_in_schema]

    assert all(isinstance(route, LeanRoute) for route in routes)
    assert {route.path for route in routes if not route.lean} == FASTAPI_SERVED
    assert len([route for route in routes if route.lean]) >= 15


async def _both_ways(app, client, method, url, **kwargs):
    lean = await client.request(method, url, **kwargs)
    routes = [route for route in app.routes if isinstance(route, LeanRoute) and route.lean]
    try:
        for route in routes:
            route.app = route.fastapi_app
        fastapi = await client.request(method, url, **kwargs)
    finally:
        for route in routes:
            route.app = route.lean_app
    return lean, fastapi


def _seen(response):
    headers = {name: value for name, value in response.headers.items() if name not in VARYING}
    return response.status_code, headers, response.content


def _ids(requests):
    return [f"{method} {url} #{n}" for n, (method, url, _) in enumerate(requests)]


READS = [
    ("GET", "/items/", {}),
    ("GET", "/items/?limit=abc&skip=-1", {}),
    ("GET", "/items/?limit=100000", {}),
    ("GET", "/items/?attr=color:red&attr=size", {}),
    ("GET", "/items/?min_price=5&max_price=x", {}),
    ("GET", "/items/not-a-number", {}),
    ("GET", "/items/99999999999999999999999", {}),
    ("GET", "/posts/?cursor=not-a-cursor", {}),
    ("GET", "/posts/?q=tea&highlight=maybe", {}),
    ("GET", "/posts/?tag=", {}),
    ("GET", "/users/?skip=1&limit=0", {}),
    ("GET", "/users/0", {}),
    ("GET", "/users/me", {"headers": {"Authorization": "Bearer forged"}}),
    ("GET", "/users/me", {"headers": {"Authorization": "Basic abc"}}),
    ("GET", "/items/", {"headers": {"Prefer": "count=exact"}}),
    ("GET", "/items/", {"headers": {"If-None-Match": '"stale", *'}}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), READS, ids=_ids(READS))
async def test_reads_and_their_errors_match_fastapi(app, client, ann, method, url, kwargs):
    await client.post("/items/", json={"name": "kettle", "price": 3}, headers=ann.headers)

    lean, fastapi = await _both_ways(app, client, method, url, **kwargs)

    assert _seen(lean) == _seen(fastapi)


BAD_WRITES = [
    ("POST", "/items/", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ("POST", "/items/", {"content": b'{"name": "x", "price": 1}', "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/items/", {"content": b""}),
    ("POST", "/items/", {"json": [1, 2]}),
    ("POST", "/items/", {"json": {"name": "x", "price": -1, "owner_id": 2}}),
    ("POST", "/posts/", {"json": {"title": "", "content": "c", "tags": ["a" * 500]}}),
    ("PATCH", "/users/me", {"json": {"email": "not an email"}}),
    ("PATCH", "/items/1", {"json": {"price": "free"}}),
    ("DELETE", "/items/abc", {}),
    ("DELETE", "/posts/1", {"headers": {"If-Match": "not-a-tag"}}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), BAD_WRITES, ids=_ids(BAD_WRITES))
async def test_rejected_writes_match_fastapi_and_write_nothing(app, client, ann, method, url, kwargs):
    kwargs = {**kwargs, "headers": {**ann.headers, **kwargs.get("headers", {})}}

    lean, fastapi = await _both_ways(app, client, method, url, **kwargs)

    assert lean.status_code >= 400
    assert _seen(lean) == _seen(fastapi)
    assert (await client.get("/items/")).json()["data"] == []
    assert (await client.get("/posts/")).json()["data"] == []


async def test_unauthenticated_writes_match_fastapi(app, client):
    lean, fastapi = await _both_ways(app, client, "POST", "/items/", json={"name": "x", "price": 1})

    assert lean.status_code == 401
    assert _seen(lean) == _seen(fastapi)
