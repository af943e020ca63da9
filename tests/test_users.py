"""Users: sign-up, public profiles, and the unique constraints that decide conflicts."""

import asyncio

import pytest

from tests.accounts import sign_in
from tests.conftest import test_queries
from tests.problems import assert_problem, error_locations

PASSWORD_HASH = test_queries.value("users/password_hash", str)
COUNT_USERS = test_queries.value("users/count", int)

ANN = {"email": "ann@example.com", "username": "ann", "password": "correct horse battery"}


async def sign_up(client, **fields):
    response = await client.post("/users/", json={**ANN, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_user_returns_it_without_the_password(client):
    response = await client.post("/users/", json=ANN)

    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "email", "username", "created_at"}
    assert (user["email"], user["username"]) == (ANN["email"], ANN["username"])
    assert response.headers["location"] == f"/users/{user['id']}"


async def test_create_user_stores_only_an_argon2id_hash(client, db):
    user = await sign_up(client)

    stored = await db.run(PASSWORD_HASH, user["id"])

    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert ANN["password"] not in stored


@pytest.mark.parametrize(
    ("field", "taken"),
    [("email", "ann@example.com"), ("email", "ANN@Example.com"), ("username", "ann"), ("username", "ANN")],
)
async def test_create_user_with_taken_field_conflicts_naming_it(client, db, field, taken):
    await sign_up(client)
    other = {"email": "bob@example.com", "username": "bob", field: taken}

    body = assert_problem(await client.post("/users/", json={**ANN, **other}), 409)

    assert body["field"] == field
    assert await db.run(COUNT_USERS) == 1


async def test_concurrent_sign_ups_with_one_email_let_exactly_one_through(client, db):
    attempts = [{**ANN, "username": f"ann{n}"} for n in range(8)]

    responses = await asyncio.gather(*(client.post("/users/", json=body) for body in attempts))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert await db.run(COUNT_USERS) == 1


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"email": "not-an-email"}, ["body", "email"]),
        ({"email": "a@" + "b" * 250 + ".com"}, ["body", "email"]),
        ({"username": "an"}, ["body", "username"]),
        ({"username": "ann@home"}, ["body", "username"]),
        ({"username": "a" * 33}, ["body", "username"]),
        ({"password": "short"}, ["body", "password"]),
        ({"password": "p" * 129}, ["body", "password"]),
        ({"password_hash": "$argon2id$..."}, ["body", "password_hash"]),
        ({"id": 1}, ["body", "id"]),
    ],
)
async def test_create_user_with_invalid_body_is_refused_and_writes_nothing(client, db, fields, location):
    assert location in error_locations(await client.post("/users/", json={**ANN, **fields}))

    assert await db.run(COUNT_USERS) == 0


async def test_validation_errors_never_echo_the_password(client):
    response = await client.post("/users/", json={**ANN, "email": "nope", "password": "hunter2"})

    assert "hunter2" not in response.text


async def test_read_user_shows_the_public_profile(client):
    user = await sign_up(client)

    response = await client.get(f"/users/{user['id']}")

    assert response.status_code == 200
    assert response.json() == {k: user[k] for k in ("id", "username", "created_at")}


async def test_read_user_not_found(client):
    assert_problem(await client.get("/users/4242"), 404)


async def test_list_users(client):
    for n in range(3):
        await sign_up(client, email=f"u{n}@example.com", username=f"user{n}")

    response = await client.get("/users/", params={"skip": 1, "limit": 5})

    assert response.status_code == 200
    assert [u["username"] for u in response.json()["data"]] == ["user1", "user2"]
    assert all("email" not in u for u in response.json()["data"])


@pytest.mark.parametrize("limit", [0, 101])
async def test_list_users_outside_limits_is_refused(client, limit):
    assert error_locations(await client.get("/users/", params={"limit": limit})) == [["query", "limit"]]


async def test_read_me_shows_the_private_account(client, ann):
    response = await client.get("/users/me", headers=ann.headers)

    assert response.status_code == 200
    assert response.json() == {
        "id": ann.id,
        "email": ann.email,
        "username": "ann",
        "created_at": response.json()["created_at"],
    }


async def test_read_me_needs_a_token(client):
    assert_problem(await client.get("/users/me"), 401)


async def test_update_me_changes_the_username_without_a_password(client, ann):
    response = await client.patch("/users/me", json={"username": "annie"}, headers=ann.headers)

    assert response.status_code == 200
    assert response.json()["username"] == "annie"
    assert (await client.get(f"/users/{ann.id}")).json()["username"] == "annie"


@pytest.mark.parametrize("current_password", [None, "not the password"])
async def test_update_me_email_needs_the_current_password(client, ann, current_password):
    changes = {"email": "new@example.com"}
    if current_password:
        changes["current_password"] = current_password

    assert_problem(await client.patch("/users/me", json=changes, headers=ann.headers), 403)

    assert (await client.get("/users/me", headers=ann.headers)).json()["email"] == ann.email


async def test_update_me_email_with_the_current_password(client, ann):
    changes = {"email": "new@example.com", "current_password": ann.password}

    response = await client.patch("/users/me", json=changes, headers=ann.headers)

    assert response.json()["email"] == "new@example.com"


async def test_update_me_password_signs_out_every_other_session(client, ann):
    other_session = (await sign_in(client, "ann", ann.password)).json()["access_token"]
    changes = {"password": "a brand new passphrase", "current_password": ann.password}

    response = await client.patch("/users/me", json=changes, headers=ann.headers)

    assert response.status_code == 200
    assert (await client.get("/users/me", headers=ann.headers)).status_code == 200
    assert_problem(await client.get("/users/me", headers={"Authorization": f"Bearer {other_session}"}), 401)
    assert (await sign_in(client, "ann", ann.password)).status_code == 400
    assert (await sign_in(client, "ann", "a brand new passphrase")).status_code == 200


async def test_update_me_to_a_taken_username_conflicts(client, ann, bob):
    body = assert_problem(await client.patch("/users/me", json={"username": "BOB"}, headers=ann.headers), 409)

    assert body["field"] == "username"


@pytest.mark.parametrize("field", ["id", "password_hash", "created_at", "is_admin"])
async def test_update_me_refuses_fields_it_does_not_offer(client, ann, field):
    response = await client.patch("/users/me", json={field: "x"}, headers=ann.headers)

    assert error_locations(response) == [["body", field]]


async def test_delete_me_removes_the_account_its_posts_items_and_tokens(client, ann, bob):
    post = (await client.post("/posts/", json={"title": "t", "content": "c"}, headers=ann.headers)).json()
    item = (await client.post("/items/", json={"name": "n", "price": 1}, headers=ann.headers)).json()
    kept = (await client.post("/posts/", json={"title": "t", "content": "c"}, headers=bob.headers)).json()

    response = await client.delete("/users/me", headers=ann.headers)

    assert response.status_code == 204
    assert_problem(await client.get(f"/users/{ann.id}"), 404)
    assert_problem(await client.get(f"/posts/{post['id']}"), 404)
    assert_problem(await client.get(f"/items/{item['id']}"), 404)
    assert_problem(await client.get("/users/me", headers=ann.headers), 401)
    assert (await client.get(f"/posts/{kept['id']}")).status_code == 200
