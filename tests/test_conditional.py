"""Conditional requests: ETags on answers, 304 for If-None-Match, 412 for a stale If-Match,
and concurrent read-modify-write clients that lose no update."""

import asyncio
import random

import pytest

from tests.problems import assert_problem

LAMP = {"name": "Lamp", "price": 0}


@pytest.fixture
async def item(client, ann):
    return (await client.post("/items/", json=LAMP, headers=ann.headers)).json()


async def test_answers_carry_an_etag_that_changes_with_the_representation(client, ann, item):
    first = await client.get(f"/items/{item['id']}")
    again = await client.get(f"/items/{item['id']}")
    await client.patch(f"/items/{item['id']}", json={"price": 5}, headers=ann.headers)
    changed = await client.get(f"/items/{item['id']}")

    assert first.headers["etag"] == again.headers["etag"]
    assert first.headers["etag"].startswith('"') and first.headers["etag"] != changed.headers["etag"]


@pytest.mark.parametrize("url", ["/items/{id}", "/items/", "/users/me", "/posts/"])
async def test_if_none_match_with_the_current_etag_is_a_304_without_a_body(client, ann, item, url):
    url = url.format(id=item["id"])
    current = await client.get(url, headers=ann.headers)

    cached = await client.get(url, headers={**ann.headers, "If-None-Match": current.headers["etag"]})

    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == current.headers["etag"]


@pytest.mark.parametrize(
    ("header", "status"), [("W/{etag}", 304), ('"other", {etag}', 304), ("*", 304), ('"stale"', 200)]
)
async def test_if_none_match_compares_weakly(client, item, header, status):
    current = (await client.get(f"/items/{item['id']}")).headers["etag"]

    response = await client.get(f"/items/{item['id']}", headers={"If-None-Match": header.format(etag=current)})

    assert response.status_code == status


async def test_patch_with_the_current_etag_changes_the_item(client, ann, item):
    current = (await client.get(f"/items/{item['id']}")).headers["etag"]

    response = await client.patch(
        f"/items/{item['id']}", json={"price": 7}, headers={**ann.headers, "If-Match": current}
    )

    assert response.status_code == 200 and response.json()["price"] == 7
    assert response.headers["etag"] != current


@pytest.mark.parametrize("header", ['"stale"', "W/{etag}"])
async def test_patch_with_a_stale_or_weak_etag_is_refused_and_changes_nothing(client, ann, item, header):
    current = (await client.get(f"/items/{item['id']}")).headers["etag"]

    response = await client.patch(
        f"/items/{item['id']}", json={"price": 9}, headers={**ann.headers, "If-Match": header.format(etag=current)}
    )

    assert_problem(response, 412)
    assert (await client.get(f"/items/{item['id']}")).json() == item


async def test_delete_with_a_stale_etag_is_refused_and_keeps_the_item(client, ann, item):
    response = await client.delete(f"/items/{item['id']}", headers={**ann.headers, "If-Match": '"stale"'})
    current = (await client.get(f"/items/{item['id']}")).headers["etag"]
    deleted = await client.delete(f"/items/{item['id']}", headers={**ann.headers, "If-Match": current})

    assert_problem(response, 412)
    assert deleted.status_code == 204


async def test_if_match_on_a_missing_item_is_a_404(client, ann):
    assert_problem(await client.patch("/items/4242", json={"price": 1}, headers={**ann.headers, "If-Match": "*"}), 404)


async def test_if_match_does_not_let_anyone_else_change_it(client, bob, item):
    current = (await client.get(f"/items/{item['id']}")).headers["etag"]

    response = await client.patch(
        f"/items/{item['id']}", json={"price": 1}, headers={**bob.headers, "If-Match": current}
    )

    assert_problem(response, 403)


async def test_a_stale_retag_changes_neither_post_nor_tags(client, ann):
    post = (
        await client.post("/posts/", json={"title": "t", "content": "c", "tags": ["old"]}, headers=ann.headers)
    ).json()

    response = await client.patch(
        f"/posts/{post['id']}", json={"title": "new", "tags": ["new"]}, headers={**ann.headers, "If-Match": '"stale"'}
    )

    assert_problem(response, 412)
    assert (await client.get(f"/posts/{post['id']}")).json() == post


async def test_my_account_honours_if_match(client, ann):
    current = (await client.get("/users/me", headers=ann.headers)).headers["etag"]

    stale = await client.patch("/users/me", json={"username": "annie"}, headers={**ann.headers, "If-Match": '"x"'})
    fresh = await client.patch("/users/me", json={"username": "annie"}, headers={**ann.headers, "If-Match": current})

    assert_problem(stale, 412)
    assert fresh.json()["username"] == "annie"


async def test_100_concurrent_read_modify_write_clients_lose_no_update(client, ann, item):
    url = f"/items/{item['id']}"
    refused = 0

    async def add_one() -> None:
        nonlocal refused
        while True:
            read = await client.get(url)
            changes = {"price": read.json()["price"] + 1}
            headers = {**ann.headers, "If-Match": read.headers["etag"]}
            written = await client.patch(url, json=changes, headers=headers)
            if written.status_code == 200:
                return
            assert written.status_code == 412, written.text
            refused += 1
            await asyncio.sleep(random.uniform(0, 0.05))  # back off, as a client would

    await asyncio.gather(*(add_one() for _ in range(100)))

    assert (await client.get(url)).json()["price"] == 100
    assert refused > 0  # they did collide, and the collisions were caught
