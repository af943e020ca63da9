"""Idempotency-Key on POST: a retry gets the first answer, never a second write."""

import asyncio
from datetime import timedelta

import pytest

from api.http.idempotency import CLAIM
from tests.conftest import test_queries
from tests.problems import assert_problem, error_locations

AGE_ALL = test_queries.nothing("idempotency/age_all")
COUNT_ITEMS = test_queries.value("items/count_all", int)
COUNT_STORED = test_queries.value("idempotency/count", int)
LAMP = {"name": "Lamp", "price": 100}


async def post(client, account, key, body=LAMP, url="/items/"):
    headers = {**account.headers, "Idempotency-Key": key} if key else account.headers
    return await client.post(url, json=body, headers=headers)


async def test_a_retry_gets_the_first_answer_and_writes_nothing_more(client, db, ann):
    first = await post(client, ann, "key-1")
    again = await post(client, ann, "key-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await db.run(COUNT_ITEMS) == 1


async def test_the_key_may_be_sent_as_a_structured_field_string(client, db, ann):
    await post(client, ann, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    again = await post(client, ann, "8e03978e-40d5-43e8-bc93-6894a57f9324")

    assert again.headers["idempotent-replayed"] == "true"
    assert await db.run(COUNT_ITEMS) == 1


async def test_the_same_key_with_another_request_is_refused(client, db, ann):
    await post(client, ann, "key-1")

    response = await post(client, ann, "key-1", body={**LAMP, "price": 999})

    assert error_locations(response) == [["header", "Idempotency-Key"]]
    assert await db.run(COUNT_ITEMS) == 1


async def test_the_same_key_while_the_first_is_in_flight_is_a_conflict(client, db, ann):
    async with db.transaction():  # what an in-flight request holds
        assert await db.run(CLAIM, f"user:{ann.id}", "key-1") is True

        response = await post(client, ann, "key-1")

    assert_problem(response, 409)
    assert await db.run(COUNT_ITEMS) == 0


async def test_a_burst_of_the_same_request_writes_once(client, db, ann):
    responses = await asyncio.gather(*(post(client, ann, "burst") for _ in range(10)))

    created = [r for r in responses if r.status_code == 201]
    assert {r.status_code for r in responses} <= {201, 409}
    assert len({r.content for r in created}) == 1
    assert await db.run(COUNT_ITEMS) == 1


async def test_keys_are_scoped_per_user(client, db, ann, bob):
    mine, theirs = await post(client, ann, "shared"), await post(client, bob, "shared")

    assert mine.json()["owner_id"] == ann.id and theirs.json()["owner_id"] == bob.id
    assert await db.run(COUNT_ITEMS) == 2


async def test_an_expired_key_is_new(client, db, ann):
    await post(client, ann, "old")
    await db.run(AGE_ALL, timedelta(hours=25))

    again = await post(client, ann, "old", body={**LAMP, "price": 5})

    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert await db.run(COUNT_ITEMS) == 2


async def test_without_a_key_every_request_writes(client, db, ann):
    await post(client, ann, None)
    await post(client, ann, None)

    assert await db.run(COUNT_ITEMS) == 2


@pytest.mark.parametrize(
    "key", ["has space", "x" * 256, 'quote"inside', '"' + "x" * 255, "x" * 255 + '"', '"' + "x" * 256 + '"', '""']
)
async def test_a_malformed_key_is_refused(client, db, ann, key):
    assert error_locations(await post(client, ann, key)) == [["header", "Idempotency-Key"]]
    assert await db.run(COUNT_ITEMS) == 0


@pytest.mark.parametrize("key", ["x" * 255, '"' + "x" * 255 + '"', "!", "'~"])
async def test_every_key_the_pattern_takes_the_store_takes(client, db, ann, key):
    first = await post(client, ann, key)
    again = await post(client, ann, key)

    assert first.status_code == 201, first.text
    assert again.headers["idempotent-replayed"] == "true"
    assert await db.run(COUNT_ITEMS) == 1


async def test_a_failed_write_stores_no_answer(client, ann):
    taken = {"email": ann.email, "username": "someone", "password": "a long passphrase"}
    assert_problem(await client.post("/users/", json=taken, headers={"Idempotency-Key": "signup"}), 409)

    fixed = {**taken, "email": "someone@example.com"}
    response = await client.post("/users/", json=fixed, headers={"Idempotency-Key": "signup"})

    assert response.status_code == 201


async def test_a_tagged_post_and_a_sign_up_replay_too(client, ann):
    body = {"title": "t", "content": "c", "tags": ["a", "b"]}
    post_first, post_again = (
        await post(client, ann, "p", body, "/posts/"),
        await post(client, ann, "p", body, "/posts/"),
    )
    signup = {"email": "new@example.com", "username": "newcomer", "password": "a long passphrase"}
    user_first = await client.post("/users/", json=signup, headers={"Idempotency-Key": "u"})
    user_again = await client.post("/users/", json=signup, headers={"Idempotency-Key": "u"})

    assert post_again.content == post_first.content and post_first.json()["tags"] == ["a", "b"]
    assert user_again.content == user_first.content
    assert user_again.headers["idempotent-replayed"] == "true"
    assert (await client.get("/posts/")).json()["data"] == [post_first.json()]


async def test_a_deleted_accounts_stored_answers_go_with_it(client, db):
    sign_up = {"email": "cid@example.com", "username": "cid", "password": "cid's passphrase"}
    first = await client.post("/users/", json=sign_up, headers={"Idempotency-Key": "signup-1"})
    token = (await client.post("/auth/token", data={"username": "cid", "password": "cid's passphrase"})).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    item = await client.post("/items/", json={"name": "Lamp", "price": 1}, headers={**headers, "Idempotency-Key": "i1"})
    assert first.status_code == item.status_code == 201
    assert await db.run(COUNT_STORED) == 2

    assert (await client.delete("/users/me", headers=headers)).status_code == 204

    assert await db.run(COUNT_STORED) == 0
    again = await client.post("/users/", json=sign_up, headers={"Idempotency-Key": "signup-1"})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
