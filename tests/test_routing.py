"""The lean request path (api.routing) answers exactly as FastAPI's own handler would.

Each request below is sent twice through the real app: once on the lean path, once with every
route's handler put back to the one FastAPI built for it. Status, headers and body must be the
same, errors included.
"""

import pytest
from fastapi.routing import APIRoute

from api.routing import LeanRoute, RouteIndex, _segment_of

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


# Paths the route index finds, and paths it leaves to FastAPI's router (404, 405, redirects).
ROUTED = [
    ("GET", "/items/"),
    ("HEAD", "/items/"),
    ("GET", "/items/1"),
    ("GET", "/items/1/"),
    ("GET", "/items"),
    ("POST", "/items"),
    ("PUT", "/items/1"),
    ("GET", "/Items/"),
    ("GET", "/items/1/2"),
    ("GET", "/users/me"),
    ("GET", "/users/1/posts"),
    ("GET", "/users/1/posts/"),
    ("GET", "/posts/?limit=2"),
    ("DELETE", "/posts/"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/"),
    ("GET", "/docs/assets/nothing.css"),
    ("GET", "/health/live"),
    ("POST", "/health/live"),
    ("GET", "/"),
    ("GET", "//items/"),
    ("GET", "/nowhere/at/all"),
    ("GET", "/metrics"),
]


async def _with_and_without_index(app, client, method, url):
    indexed = await client.request(method, url, follow_redirects=False)
    index, app.router.middleware_stack = app.router.middleware_stack, app.router.app
    try:
        unindexed = await client.request(method, url, follow_redirects=False)
    finally:
        app.router.middleware_stack = index
    return indexed, unindexed


@pytest.mark.parametrize(("method", "url"), ROUTED, ids=[f"{method} {url}" for method, url in ROUTED])
async def test_the_route_index_answers_as_fastapis_router(app, client, method, url):
    indexed, unindexed = await _with_and_without_index(app, client, method, url)

    if url == "/metrics":  # its counters moved between the two requests
        assert (indexed.status_code, indexed.headers["content-type"]) == (200, unindexed.headers["content-type"])
    else:
        assert _seen(indexed) == _seen(unindexed)


def test_the_route_index_tries_only_the_routes_that_can_match_in_their_order(app):
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)

    tried = index._candidates("/items/7")

    items = [route for route in app.router.routes if getattr(route, "path", "").startswith("/items")]
    assert tried == items
    assert [route.path for route in index._candidates("/metrics")] == ["/metrics"]
    assert {route.path for route in index._candidates("/docs/assets/x.css")} == {"/docs", "/docs/assets"}


async def test_a_route_added_after_the_app_was_made_is_found(app, client):
    app.router.add_api_route("/items/added/later", lambda: {"found": True}, methods=["GET"])
    try:
        response = await client.get("/items/added/later")
    finally:
        app.router.routes.pop()

    assert response.json() == {"found": True}
    assert (await client.get("/items/added/later")).status_code == 404  # gone again


@pytest.mark.parametrize(
    ("template", "segment"),
    [
        ("/items/{item_id}", "items"),
        ("/items/", "items"),
        ("/metrics", "metrics"),
        ("/", ""),
        ("/docs/assets/{path}", "docs"),
        ("/{anything}", None),
        ("/items{suffix}", None),
        ("", None),
    ],
)
def test_a_route_is_indexed_under_the_first_segment_of_every_path_it_matches(template, segment):
    route = type("Templated", (), {"path_format": template})()

    assert _segment_of(route) == segment
