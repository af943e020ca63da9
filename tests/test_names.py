"""Accounts' names: one normalisation of emails on every path, usernames unique after NFKC
case folding and look-alikes, mixed-script emails refused."""

import pytest

from api.resources.users import routes
from api.resources.users.names import normalized_email, username_skeleton
from tests.accounts import sign_in
from tests.conftest import test_queries
from tests.problems import assert_problem, error_locations

PASSWORD = "a long passphrase"
NOTHING_TAKEN = test_queries.value("users/nothing_taken", str)
SKELETON = test_queries.value("users/skeleton", str)


async def sign_up(client, email, username):
    return await client.post("/users/", json={"email": email, "username": username, "password": PASSWORD})


@pytest.mark.parametrize("taken", ["LILY", "Lily", "ｌｉｌｙ", "Iily", "1ily", "IILY", "l1ly"])
async def test_usernames_that_look_alike_are_one_name(client, taken):
    assert (await sign_up(client, "lily@example.com", "lily")).status_code == 201

    body = assert_problem(await sign_up(client, "other@example.com", taken), 409)

    assert body["field"] == "username"


async def test_a_fullwidth_username_is_stored_in_nfkc(client):
    created = await sign_up(client, "lily@example.com", "ｌｉｌｙ")

    assert created.json()["username"] == "lily"
    assert (await sign_in(client, "lily", PASSWORD)).status_code == 200


async def test_the_database_refuses_look_alikes_without_the_first_read(client, monkeypatch):
    """The read before hashing spares the hash; the unique index decides (a race, a lagging replica)."""
    assert (await sign_up(client, "lily@example.com", "lily")).status_code == 201
    monkeypatch.setattr(routes, "TAKEN", NOTHING_TAKEN)

    body = assert_problem(await sign_up(client, "other@example.com", "Iily"), 409)

    assert body == {**body, "detail": "That username is already taken.", "field": "username"}


async def test_changing_to_a_look_alike_username_conflicts(client, ann, bob):
    body = assert_problem(await client.patch("/users/me", json={"username": "b0b"}, headers=ann.headers), 409)

    assert body["field"] == "username"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Cid@EXAMPLE.com", "Cid@example.com"),
        ("ca\u0301nn@example.com", "c\u00e1nn@example.com"),  # NFD: the same address in NFC
        ("cid@xn--bcher-kva.com", "cid@bücher.com"),  # punycode: the Unicode domain
    ],
)
async def test_an_email_is_normalized_alike_at_sign_up_sign_in_and_change(client, ann, typed, stored):
    assert normalized_email(typed) == stored
    signed_up = await sign_up(client, typed, "cid")
    assert signed_up.json()["email"] == stored

    assert (await sign_in(client, typed, PASSWORD)).status_code == 200
    assert (await sign_in(client, stored, PASSWORD)).status_code == 200
    taken = await client.patch(
        "/users/me", json={"email": typed.upper(), "current_password": ann.password}, headers=ann.headers
    )
    assert assert_problem(taken, 409)["field"] == "email"


@pytest.mark.parametrize(
    "email",
    [
        "Ann <ann2@example.com>",  # a display name
        " ann2@example.com",  # spaces around
        "ann2@example.com ",
        "p\u0430ypal@example.com",  # a Cyrillic а among Latin letters
        "ann2@ex\u0430mple.com",  # ... in the domain
    ],
)
async def test_emails_that_are_not_one_bare_single_script_address_are_refused(client, email):
    response = await sign_up(client, email, "cid")

    assert error_locations(response) == [["body", "email"]]


async def test_scripts_written_together_are_one_email(client):
    assert (await sign_up(client, "taro山田@example.com", "taro")).status_code == 201


async def test_a_refused_email_form_signs_in_to_nothing(client):
    await sign_up(client, "cid@example.com", "cid")

    response = await sign_in(client, "Cid <cid@example.com>", PASSWORD)

    assert response.json()["error"] == "invalid_grant"


async def test_the_python_skeleton_is_the_databases(db):
    """names.LOOKALIKES and the SQL function username_skeleton (migration 0009) must agree."""
    names = ["Iily", "lily", "1ily", "rnary", "mary", "vvendy", "wendy", "anna", "anne", "O0o_-.x", "ABCxyz019"]

    assert [await db.run(SKELETON, name) for name in names] == [username_skeleton(name) for name in names]
    assert username_skeleton("Iily") == username_skeleton("1ily") == username_skeleton("lily")
    assert username_skeleton("rnary") == username_skeleton("mary") and username_skeleton("anna") != "anne"
