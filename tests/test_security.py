"""The OWASP API Top 10, tried: broken object-level authorization, mass assignment,
exposure of secrets, unbounded bodies, and injection."""

import pytest

from tests import inventory
from tests.conftest import test_queries
from tests.problems import assert_problem, error_locations

CREATE_UNOWNED_ITEM = test_queries.value("items/create_unowned", int)

# Collections whose members only their owner may change, as the document says (a 403).
OWNED = inventory.owned()
NEW = {name: inventory.new(name, 1) for name in OWNED}
CHANGES = {name: inventory.change(name) for name in OWNED}


async def create(client, account, kind):
    response = await client.post(f"/{kind}/", json=NEW[kind], headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("kind", OWNED)
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_another_user_cannot_change_or_delete_what_is_not_theirs(client, ann, bob, kind, method):
    thing = await create(client, ann, kind)
    url = f"/{kind}/{thing['id']}"

    response = await client.request(method, url, json=CHANGES[kind] if method == "PATCH" else None, headers=bob.headers)

    assert_problem(response, 403)
    assert (await client.get(url)).json() == thing


@pytest.mark.parametrize("kind", OWNED)
@pytest.mark.parametrize("method", ["PUT", "POST"])
async def test_no_other_method_reaches_what_is_not_theirs(client, ann, bob, kind, method):
    thing = await create(client, ann, kind)
    url = f"/{kind}/{thing['id']}"

    assert_problem(await client.request(method, url, json=CHANGES[kind], headers=bob.headers), 405)
    assert (await client.get(url)).json() == thing


@pytest.mark.parametrize("kind", OWNED)
async def test_writing_without_a_token_changes_nothing(client, ann, kind):
    thing = await create(client, ann, kind)
    url = f"/{kind}/{thing['id']}"

    assert_problem(await client.patch(url, json=CHANGES[kind]), 401)
    assert_problem(await client.delete(url), 401)
    assert (await client.get(url)).json() == thing


async def test_an_item_older_than_owners_cannot_be_changed_by_anyone(client, db, ann):
    item_id = await db.run(CREATE_UNOWNED_ITEM, "Heirloom")

    assert_problem(await client.patch(f"/items/{item_id}", json={"price": 5}, headers=ann.headers), 403)
    assert_problem(await client.delete(f"/items/{item_id}", headers=ann.headers), 403)
    assert (await client.get(f"/items/{item_id}")).json()["owner_id"] is None


SMUGGLED = ["id", "author_id", "owner_id", "password_hash", "created_at", "is_admin"]


@pytest.mark.parametrize("field", SMUGGLED)
@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/items/"),
        ("PATCH", "item"),
        ("POST", "/posts/"),
        ("PATCH", "post"),
        ("POST", "/users/"),
        ("PATCH", "/users/me"),
    ],
)
async def test_mass_assignment_of_any_field_not_offered_is_refused(client, ann, bob, method, target, field):
    item, post = await create(client, ann, "items"), await create(client, ann, "posts")
    url = {"item": f"/items/{item['id']}", "post": f"/posts/{post['id']}"}.get(target, target)
    body = {
        "/items/": NEW["items"],
        "/posts/": NEW["posts"],
        "/users/": {"email": "eve@example.com", "username": "eve", "password": "eve's long passphrase"},
    }.get(target, {})
    before = [(await client.get(u)).json() for u in (f"/items/{item['id']}", f"/posts/{post['id']}")]

    response = await client.request(method, url, json={**body, field: bob.id}, headers=ann.headers)

    assert error_locations(response) == [["body", field]]
    assert [(await client.get(u)).json() for u in (f"/items/{item['id']}", f"/posts/{post['id']}")] == before
    assert len((await client.get("/users/")).json()["data"]) == 2


async def test_no_response_anywhere_carries_a_password_or_a_hash(client, ann, bob):
    post, item = await create(client, ann, "posts"), await create(client, ann, "items")
    responses = [
        await client.get("/users/"),
        await client.get(f"/users/{ann.id}"),
        await client.get("/users/me", headers=ann.headers),
        await client.get(f"/users/{ann.id}/posts"),
        await client.get("/posts/"),
        await client.get(f"/posts/{post['id']}"),
        await client.get("/items/"),
        await client.get(f"/items/{item['id']}"),
        await client.post(
            "/users/", json={"email": "cid@example.com", "username": "cid", "password": "cid's passphrase"}
        ),
        await client.post(
            "/users/", json={"email": "ann@example.com", "username": "x1x", "password": "secret passphrase"}
        ),
        await client.post("/users/", json={"email": "bad", "username": "dee", "password": "dee's passphrase"}),
        await client.post("/auth/token", data={"username": "ann", "password": ann.password}),
        await client.post("/auth/token", data={"username": "ann", "password": "wrong passphrase"}),
        await client.patch("/users/me", json={"username": "annie"}, headers=ann.headers),
        await client.patch(
            "/users/me", json={"password": "newer passphrase", "current_password": "wrong"}, headers=ann.headers
        ),
    ]

    secrets = [
        ann.password,
        bob.password,
        "cid's passphrase",
        "secret passphrase",
        "dee's passphrase",
        "newer passphrase",
    ]
    for response in responses:
        text = response.text + str(response.headers)
        assert "$argon2" not in text and "password_hash" not in text, response.request.url
        assert not [s for s in secrets if s in text], response.request.url


async def test_a_body_over_the_limit_is_refused_before_it_is_read(client, ann, settings):
    too_big = b'{"name": "' + b"x" * settings.max_body_bytes + b'", "price": 1}'

    response = await client.post(
        "/items/", content=too_big, headers={**ann.headers, "content-type": "application/json"}
    )

    assert_problem(response, 413)
    assert (await client.get("/items/")).json()["data"] == []


async def test_a_streamed_body_over_the_limit_is_refused_once_it_passes_it(client, ann, settings):
    async def chunks():
        yield b'{"name": "'
        for _ in range(settings.max_body_bytes // 65536 + 1):
            yield b"x" * 65536
        yield b'", "price": 1}'

    response = await client.post(
        "/items/", content=chunks(), headers={**ann.headers, "content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert (await client.get("/items/")).json()["data"] == []


NASTY = ["'", "';--", "$1", "\\", "' OR '1'='1", '"; DROP TABLE items; --', "%_*", "$$ $1::text $$", "😀 ünïcødé"]


@pytest.mark.parametrize("nasty", NASTY)
async def test_sql_metacharacters_in_every_free_text_field_round_trip_verbatim(client, ann, nasty):
    item_body = {"name": f"n{nasty}", "description": nasty, "price": 1}
    post_body = {"title": f"t{nasty}", "content": nasty}

    item = (await client.post("/items/", json=item_body, headers=ann.headers)).json()
    post = (await client.post("/posts/", json=post_body, headers=ann.headers)).json()

    stored_item = (await client.get(f"/items/{item['id']}")).json()
    stored_post = (await client.get(f"/posts/{post['id']}")).json()
    assert {k: stored_item[k] for k in item_body} == item_body
    assert {k: stored_post[k] for k in post_body} == post_body


async def test_sql_metacharacters_in_an_email_round_trip_and_sign_in(client):
    email = "o'neil$1+x--@example.com"  # ';' is not allowed in an address
    body = {"email": email, "username": "oneil", "password": "o'neil's passphrase"}

    created = await client.post("/users/", json=body)

    assert created.json()["email"] == email
    signed_in = await client.post("/auth/token", data={"username": email, "password": body["password"]})
    assert signed_in.status_code == 200
    assert (
        await client.get("/users/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
    ).json()["email"] == email


def test_the_document_names_the_collections_only_owners_may_change():
    assert len(OWNED) >= 2 and all(NEW[name] and CHANGES[name] for name in OWNED)


async def test_every_kind_of_answer_tells_browsers_not_to_sniff(client, ann):
    item = await create(client, ann, "items")
    answers = [
        await client.get(f"/items/{item['id']}"),  # JSON
        await client.get("/items/", headers={"If-None-Match": (await client.get("/items/")).headers["etag"]}),  # 304
        await client.get("/items/0"),  # 422
        await client.get("/nowhere"),  # 404
        await client.options("/items/"),  # 204
        await client.get("/items"),  # redirect
        await client.post("/items/", content=b"x" * 2_000_000, headers=ann.headers),  # 413
        await client.get("/docs"),  # HTML
        await client.get("/metrics"),
    ]

    assert [a.headers.get("x-content-type-options") for a in answers] == ["nosniff"] * len(answers)
    assert sorted({a.status_code for a in answers}) == [200, 204, 304, 307, 404, 413, 422]
