"""Items: create, read, list, change and delete, and every way to get them wrong."""

import pytest

from tests.problems import assert_problem, error_locations

LAMP = {"name": "Lamp", "description": "A desk lamp", "price": 1999}


async def create(client, account, **fields):
    response = await client.post("/items/", json={**LAMP, **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_item_returns_it_with_its_location_and_owner(client, ann):
    response = await client.post("/items/", json=LAMP, headers=ann.headers)

    assert response.status_code == 201
    item = response.json()
    assert {k: item[k] for k in LAMP} == LAMP
    assert item["id"] >= 1
    assert item["owner_id"] == ann.id
    assert item["created_at"] == item["updated_at"]
    assert response.headers["location"] == f"/items/{item['id']}"


async def test_create_item_without_a_token_is_refused(client):
    response = await client.post("/items/", json=LAMP)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/items/")).json()["data"] == []


async def test_create_item_without_description(client, ann):
    response = await client.post("/items/", json={"name": "Pen", "price": 0}, headers=ann.headers)

    assert response.status_code == 201
    assert response.json()["description"] is None


async def test_read_item(client, ann):
    item = await create(client, ann)

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 200
    assert response.json() == item


async def test_read_item_not_found(client):
    body = assert_problem(await client.get("/items/4242"), 404)
    assert "4242" in body["detail"]


@pytest.mark.parametrize("item_id", ["0", "-1", "abc", str(2**63)])
async def test_read_item_with_impossible_id_is_refused(client, item_id):
    assert error_locations(await client.get(f"/items/{item_id}")) == [["path", "item_id"]]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"price": 5}, ["body", "name"]),
        ({"name": "Lamp"}, ["body", "price"]),
        ({"name": "", "price": 5}, ["body", "name"]),
        ({"name": "   ", "price": 5}, ["body", "name"]),
        ({"name": "x" * 201, "price": 5}, ["body", "name"]),
        ({"name": "Lamp", "price": -1}, ["body", "price"]),
        ({"name": "Lamp", "price": 2**63}, ["body", "price"]),
        ({"name": "Lamp", "price": "cheap"}, ["body", "price"]),
        ({"name": "La\x00mp", "price": 5}, ["body", "name"]),
        ({"name": "Lamp", "price": 5, "description": "d" * 2001}, ["body", "description"]),
        ({"name": "Lamp", "price": 5, "id": 7}, ["body", "id"]),
    ],
)
async def test_create_item_with_invalid_body_is_refused_and_writes_nothing(client, ann, body, location):
    assert location in error_locations(await client.post("/items/", json=body, headers=ann.headers))

    assert (await client.get("/items/")).json()["data"] == []


async def test_create_item_with_malformed_json_is_refused(client, ann):
    headers = {**ann.headers, "content-type": "application/json"}
    response = await client.post("/items/", content=b'{"name": ', headers=headers)

    assert_problem(response, 400)


async def test_list_items_in_creation_order(client, ann):
    created = [await create(client, ann, name=f"Item {n}") for n in range(5)]

    response = await client.get("/items/")

    assert response.status_code == 200
    assert response.json()["data"] == created


async def test_list_items_skip_and_limit(client, ann):
    created = [await create(client, ann, name=f"Item {n}") for n in range(5)]

    response = await client.get("/items/", params={"skip": 1, "limit": 2})

    assert response.json()["data"] == created[1:3]


@pytest.mark.parametrize(("param", "value"), [("limit", 101), ("limit", 0), ("skip", -1), ("limit", "x")])
async def test_list_items_outside_limits_is_refused(client, param, value):
    assert error_locations(await client.get("/items/", params={param: value})) == [["query", param]]


async def test_list_items_accepts_the_largest_limit(client):
    assert (await client.get("/items/", params={"limit": 100})).status_code == 200


async def test_update_item_changes_only_the_fields_sent(client, ann):
    item = await create(client, ann)

    response = await client.patch(f"/items/{item['id']}", json={"price": 2500}, headers=ann.headers)

    assert response.status_code == 200
    updated = response.json()
    assert updated == {**item, "price": 2500, "updated_at": updated["updated_at"]}
    assert updated["updated_at"] > item["updated_at"]


async def test_update_item_can_clear_the_description(client, ann):
    item = await create(client, ann)

    changes = {"description": None, "name": "Torch"}
    response = await client.patch(f"/items/{item['id']}", json=changes, headers=ann.headers)

    assert response.json()["description"] is None
    assert response.json()["name"] == "Torch"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"name": None}, ["body", "name"]),
        ({"price": None}, ["body", "price"]),
        ({"price": -5}, ["body", "price"]),
        ({"owner": 3}, ["body", "owner"]),
    ],
)
async def test_update_item_with_invalid_body_is_refused_and_changes_nothing(client, ann, body, location):
    item = await create(client, ann)

    assert location in error_locations(await client.patch(f"/items/{item['id']}", json=body, headers=ann.headers))

    assert (await client.get(f"/items/{item['id']}")).json() == item


async def test_update_item_not_found(client, ann):
    assert_problem(await client.patch("/items/4242", json={"price": 1}, headers=ann.headers), 404)


async def test_delete_item(client, ann):
    item = await create(client, ann)

    response = await client.delete(f"/items/{item['id']}", headers=ann.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(f"/items/{item['id']}"), 404)


async def test_delete_item_not_found(client, ann):
    assert_problem(await client.delete("/items/4242", headers=ann.headers), 404)
