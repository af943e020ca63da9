"""Posts: written by the signed-in user, read by anyone with their author embedded, and
fetched in one statement however many posts a page holds."""

import pytest

from tests.accounts import new_account
from tests.problems import assert_problem, error_locations

HELLO = {"title": "Hello", "content": "First post."}


async def write(client, account, **fields):
    response = await client.post("/posts/", json={**HELLO, **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_post_returns_it_with_its_author_and_location(client, ann):
    response = await client.post("/posts/", json=HELLO, headers=ann.headers)

    assert response.status_code == 201
    post = response.json()
    assert (post["title"], post["content"]) == (HELLO["title"], HELLO["content"])
    assert post["author"] == {"id": ann.id, "username": "ann"}
    assert post["created_at"] == post["updated_at"]
    assert response.headers["location"] == f"/posts/{post['id']}"


async def test_create_post_without_a_token_is_refused(client):
    assert_problem(await client.post("/posts/", json=HELLO), 401)


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"content": "x"}, ["body", "title"]),
        ({"title": "x"}, ["body", "content"]),
        ({"title": "", "content": "x"}, ["body", "title"]),
        ({"title": "t" * 201, "content": "x"}, ["body", "title"]),
        ({"title": "x", "content": "c" * 50001}, ["body", "content"]),
        ({"title": "x", "content": "\x00"}, ["body", "content"]),
        ({**HELLO, "author_id": 1}, ["body", "author_id"]),
    ],
)
async def test_create_post_with_invalid_body_is_refused_and_writes_nothing(client, ann, body, location):
    assert location in error_locations(await client.post("/posts/", json=body, headers=ann.headers))

    assert (await client.get("/posts/")).json()["data"] == []


async def test_read_post_with_its_author(client, ann):
    post = await write(client, ann)

    response = await client.get(f"/posts/{post['id']}")

    assert response.status_code == 200
    assert response.json() == post


async def test_read_post_not_found(client):
    assert_problem(await client.get("/posts/4242"), 404)


async def test_list_posts_with_their_authors_in_one_statement(client, statements):
    authors = [await new_account(client, name) for name in ("ann", "bob", "cid")]
    written = [await write(client, authors[n % 3], title=f"Post {n}") for n in range(20)]

    async with statements.recording() as sent:
        response = await client.get("/posts/", params={"limit": 20})

    assert response.json()["data"] == written[::-1]  # newest first
    assert {p["author"]["username"] for p in response.json()["data"]} == {"ann", "bob", "cid"}
    assert sent == ["posts/list"]


async def test_read_one_post_in_one_statement(client, ann, statements):
    post = await write(client, ann)

    async with statements.recording() as sent:
        await client.get(f"/posts/{post['id']}")

    assert sent == ["posts/get_by_id"]


async def test_list_posts_skip_and_limit(client, ann):
    written = [await write(client, ann, title=f"Post {n}") for n in range(5)]

    response = await client.get("/posts/", params={"skip": 2, "limit": 2})

    assert response.json()["data"] == written[::-1][2:4]


async def test_list_a_users_posts(client, ann, bob, statements):
    mine = [await write(client, ann, title=f"Ann {n}") for n in range(3)]
    await write(client, bob, title="Bob's")

    async with statements.recording() as sent:
        response = await client.get(f"/users/{ann.id}/posts")

    assert response.json()["data"] == mine[::-1]
    assert sent == ["posts/list_by_author"]


async def test_list_posts_of_a_user_with_none_is_empty(client, ann):
    assert (await client.get(f"/users/{ann.id}/posts")).json() == {
        "data": [],
        "next": None,
        "cursor": None,
        "count": None,
    }


async def test_list_posts_of_a_missing_user_is_not_found(client):
    assert_problem(await client.get("/users/4242/posts"), 404)


async def test_author_updates_some_fields_of_a_post(client, ann):
    post = await write(client, ann)

    response = await client.patch(f"/posts/{post['id']}", json={"title": "Hello again"}, headers=ann.headers)

    assert response.status_code == 200
    updated = response.json()
    assert updated == {**post, "title": "Hello again", "updated_at": updated["updated_at"]}
    assert updated["updated_at"] > post["updated_at"]


@pytest.mark.parametrize(
    ("body", "location"),
    [({"title": None}, ["body", "title"]), ({"content": ""}, ["body", "content"]), ({"id": 9}, ["body", "id"])],
)
async def test_update_post_with_invalid_body_is_refused_and_changes_nothing(client, ann, body, location):
    post = await write(client, ann)

    assert location in error_locations(await client.patch(f"/posts/{post['id']}", json=body, headers=ann.headers))

    assert (await client.get(f"/posts/{post['id']}")).json() == post


async def test_update_post_not_found(client, ann):
    assert_problem(await client.patch("/posts/4242", json={"title": "x"}, headers=ann.headers), 404)


async def test_author_deletes_a_post(client, ann):
    post = await write(client, ann)

    response = await client.delete(f"/posts/{post['id']}", headers=ann.headers)

    assert response.status_code == 204
    assert_problem(await client.get(f"/posts/{post['id']}"), 404)


async def test_delete_post_not_found(client, ann):
    assert_problem(await client.delete("/posts/4242", headers=ann.headers), 404)
