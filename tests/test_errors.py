"""Errors: every one a problem document, none leaking internals, database faults as 503."""

import asyncio
import dataclasses
import logging

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.data.db import APPLICATION_NAME
from api.http.request_id import RequestIdFilter
from api.main import create_app
from api.resources.items import routes as items
from tests.conftest import test_queries
from tests.problems import assert_problem

LOCK_ITEM = test_queries.value("items/lock", int)
WAITING_ON_LOCKS = test_queries.value("activity/waiting_on_locks", int)
TERMINATE_OTHERS = test_queries.value("activity/terminate_others", int)


async def test_unknown_path_is_a_404_problem(client):
    assert_problem(await client.get("/nowhere"), 404)


async def test_unsupported_method_is_a_405_problem_with_allow(client):
    response = await client.put("/items/")

    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


# RFC 9110's reason phrases where older RFCs (and Python's http.HTTPStatus) name them otherwise.
RFC_9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


async def test_problem_titles_are_rfc_9110s_reason_phrases(client, ann, settings):
    too_large = await client.post(
        "/items/",
        content=b"x" * (settings.max_body_bytes + 1),
        headers={**ann.headers, "Content-Type": "application/json"},
    )
    unprocessable = await client.post("/items/", json={"name": "Lamp", "price": -1}, headers=ann.headers)

    for status, response in ((413, too_large), (422, unprocessable)):
        assert assert_problem(response, status)["title"] == RFC_9110_TITLES[status]


async def test_every_response_carries_a_request_id(client):
    generated = await client.get("/items/")
    echoed = await client.get("/items/", headers={"X-Request-ID": "abc-123"})
    refused = await client.get("/items/", headers={"X-Request-ID": "bad id\twith spaces"})

    assert len(generated.headers["x-request-id"]) == 32
    assert echoed.headers["x-request-id"] == "abc-123"
    assert refused.headers["x-request-id"] != "bad id\twith spaces"


async def test_a_request_id_ending_in_a_newline_is_not_echoed(client):
    """`$` in a pattern matches before a final newline: echoed, it broke the answer's headers."""
    response = await client.get("/items/", headers=[(b"X-Request-ID", b"abc\n")])

    assert response.headers["x-request-id"] != "abc\n" and len(response.headers["x-request-id"]) == 32


async def test_unexpected_error_is_a_500_that_says_nothing_but_is_logged(client, monkeypatch, caplog):
    def explode(row):
        raise RuntimeError("secret: SELECT password_hash FROM users")

    monkeypatch.setattr(items, "GET_BY_ID", dataclasses.replace(items.GET_BY_ID, convert=explode))
    caplog.handler.addFilter(RequestIdFilter())

    with caplog.at_level(logging.ERROR, logger="api"):
        response = await client.get("/items/1", headers={"X-Request-ID": "trace-me"})

    body = assert_problem(response, 500)
    assert body["request_id"] == "trace-me"
    assert "secret" not in response.text and "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.request_id == "trace-me"
    assert "secret" in str(record.exc_info[1])


@pytest.fixture
async def tiny_pool_app(settings):
    """The app with one connection, given up on quickly."""
    app = create_app(settings.model_copy(update={"pool_min_size": 1, "pool_max_size": 1, "pool_acquire_timeout": 0.2}))
    async with LifespanManager(app):
        yield app


async def test_pool_exhausted_past_its_timeout_is_a_503_with_retry_after(tiny_pool_app):
    transport = httpx.ASGITransport(app=tiny_pool_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        async with tiny_pool_app.state.database.pool.acquire():  # the only connection, taken
            response = await client.get("/items/1")
        after = await client.get("/items/1")

    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"
    assert "pool" not in body["detail"].lower()
    assert_problem(after, 404)  # the connection came back: served again


async def test_lost_connections_give_503_then_the_service_recovers_by_itself(client, db):
    await client.get("/items/")  # make sure the pool has open connections
    assert await db.run(TERMINATE_OTHERS, APPLICATION_NAME) >= 1

    statuses = [(await client.get("/items/")).status_code for _ in range(6)]

    assert set(statuses) <= {200, 503}
    assert statuses[-1] == 200


async def test_cancelled_request_gives_its_connection_back_and_writes_nothing(client, app, db, ann):
    item = (await client.post("/items/", json={"name": "Lamp", "price": 10}, headers=ann.headers)).json()
    pool = app.state.database.pool

    async with db.transaction():
        await db.run(LOCK_ITEM, item["id"])
        patch = asyncio.create_task(client.patch(f"/items/{item['id']}", json={"price": 99}, headers=ann.headers))
        for _ in range(100):  # until the PATCH waits on our lock
            if await db.run(WAITING_ON_LOCKS) == 1:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the PATCH never reached the database")
        patch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await patch

    for _ in range(100):  # the cancelled statement is being called off server-side
        if pool.get_idle_size() == pool.get_size():
            break
        await asyncio.sleep(0.02)
    assert pool.get_idle_size() == pool.get_size()
    assert (await client.get(f"/items/{item['id']}")).json()["price"] == 10
    assert (await client.patch(f"/items/{item['id']}", json={"price": 11}, headers=ann.headers)).json()["price"] == 11
