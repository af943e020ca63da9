"""Items' free-form JSONB attributes: stored as sent, bounded, filtered by containment; and
price ranges."""

import pytest

from tests.problems import error_locations

ITEMS = [
    {"name": "Red shirt", "price": 1500, "attributes": {"color": "red", "size": "M", "stock": 3}},
    {"name": "Blue shirt", "price": 1500, "attributes": {"color": "blue", "size": "L", "stock": 0}},
    {"name": "Red mug", "price": 800, "attributes": {"color": "red", "size": 10, "dishwasher": True}},
    {"name": "Plain box", "price": 200},
]


@pytest.fixture
async def stocked(client, ann):
    for item in ITEMS:
        response = await client.post("/items/", json=item, headers=ann.headers)
        assert response.status_code == 201, response.text


async def names(client, **params):
    response = await client.get("/items/", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["data"]]


async def test_attributes_are_stored_as_sent(client, ann):
    nested = {"color": "red", "dims": {"w": 1.5, "h": [1, 2]}, "tags": ["a"], "note": None, "new": True}

    item = (
        await client.post("/items/", json={"name": "x", "price": 1, "attributes": nested}, headers=ann.headers)
    ).json()

    assert item["attributes"] == nested
    assert (await client.get(f"/items/{item['id']}")).json()["attributes"] == nested


async def test_attributes_default_to_an_empty_object(client, stocked):
    assert (await client.get("/items/", params={"limit": 4})).json()["data"][3]["attributes"] == {}


@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        (["color:red"], ["Red shirt", "Red mug"]),
        (["color:red", "size:M"], ["Red shirt"]),
        (["size:10"], ["Red mug"]),
        (['size:"10"'], []),
        (["dishwasher:true"], ["Red mug"]),
        (["stock:0"], ["Blue shirt"]),
        (["color:green"], []),
        (["color:red:dark"], []),
        (["color:red", "color:red"], ["Red shirt", "Red mug"]),
        (["color:red", "color:blue"], []),  # both at once: nothing can be
        (["stock:0", "stock:false"], []),  # 0 and false are one value to Python, two to jsonb
        (["dishwasher:true", "dishwasher:1"], []),
    ],
)
async def test_filter_by_attributes_containment(client, stocked, attr, expected):
    assert await names(client, attr=attr) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"min_price": 1000}, ["Red shirt", "Blue shirt"]),
        ({"max_price": 800}, ["Red mug", "Plain box"]),
        ({"min_price": 800, "max_price": 800}, ["Red mug"]),
        ({"min_price": 900, "attr": ["color:red"]}, ["Red shirt"]),
    ],
)
async def test_filter_by_price_range(client, stocked, params, expected):
    assert await names(client, **params) == expected


@pytest.mark.parametrize(
    "attr",
    [["nocolon"], [":red"], ["a\x00b:c"], [f"k{n}:v" for n in range(11)]],
)
async def test_a_malformed_attribute_filter_is_refused(client, attr):
    assert error_locations(await client.get("/items/", params={"attr": attr}))[0][:2] == ["query", "attr"]


@pytest.mark.parametrize(
    "value",
    [
        " 10",
        "10\n",
        "10 ",
        "\t10",
        "10\u00a0",
        "\u200710",
        "10\u2028",
        " red",
        '"red" ',
        "-0",
        "1.0",
        "1e1",
        "1E1",
        "-0.0",
    ],
)
async def test_an_attribute_value_in_any_form_but_its_one_is_refused(client, stocked, value):
    """The JSON parser skips white space around a literal: `size: 10` read as 10. Such a value,
    and an integer written otherwise than in digits, is a 422, not another URL for a filter."""
    [location] = error_locations(await client.get("/items/", params={"attr": f"size:{value}"}))
    assert location[:2] == ["query", "attr"]  # white space by the published pattern, at its index


@pytest.mark.parametrize(
    ("attr", "expected"), [("size:-1", []), ("stock:1.5", []), ("color:01", []), ("size:10", ["Red mug"])]
)
async def test_an_attribute_value_in_its_one_form_is_taken(client, stocked, attr, expected):
    assert await names(client, attr=[attr]) == expected


@pytest.mark.parametrize(
    "attributes",
    [
        {"blob": "x" * 4096},
        {"bad": "nul\x00here"},
        {"bad\x00key": 1},
        ["not", "an", "object"],
        "red",
    ],
)
async def test_unstorable_attributes_are_refused_and_nothing_is_written(client, ann, attributes):
    response = await client.post(
        "/items/", json={"name": "x", "price": 1, "attributes": attributes}, headers=ann.headers
    )

    assert error_locations(response)[0][:2] == ["body", "attributes"]
    assert (await client.get("/items/")).json()["data"] == []


async def test_not_a_number_is_refused(client, ann):
    body = b'{"name": "x", "price": 1, "attributes": {"ratio": NaN}}'

    response = await client.post("/items/", content=body, headers={**ann.headers, "content-type": "application/json"})

    assert response.status_code == 422


async def test_update_replaces_the_attributes_whole(client, ann):
    item = (await client.post("/items/", json=ITEMS[0], headers=ann.headers)).json()

    response = await client.patch(f"/items/{item['id']}", json={"attributes": {"color": "black"}}, headers=ann.headers)

    assert response.json()["attributes"] == {"color": "black"}
    assert response.json()["price"] == item["price"]


async def test_integers_beyond_64_bits_round_trip_exactly(client, ann):
    big = {"serial": 2**70 + 1, "negative": -(2**80)}

    item = (await client.post("/items/", json={"name": "x", "price": 1, "attributes": big}, headers=ann.headers)).json()

    assert (await client.get(f"/items/{item['id']}")).json()["attributes"] == big


async def test_an_integer_of_any_size_filters_exactly(client, ann):
    huge = 2**64 + 1
    for n in (huge, huge + 1):
        response = await client.post(
            "/items/", json={"name": str(n), "price": 1, "attributes": {"n": n}}, headers=ann.headers
        )
        assert response.status_code == 201, response.text

    assert await names(client, attr=[f"n:{huge}"]) == [str(huge)]
    assert await names(client, attr=[f"n:{10**60}"]) == []


async def test_the_six_characters_of_a_nul_escape_are_text_and_a_real_nul_is_refused(client, ann):
    typed = {"note": "\\u0000", "\\u0000": "key"}  # a backslash, then u0000: no NUL in it
    stored = await client.post("/items/", json={"name": "x", "price": 1, "attributes": typed}, headers=ann.headers)
    real = await client.post(
        "/items/", json={"name": "y", "price": 1, "attributes": {"note": "a\x00b"}}, headers=ann.headers
    )

    assert stored.status_code == 201, stored.text
    assert stored.json()["attributes"] == typed
    assert error_locations(real) == [["body", "attributes"]]
    assert await names(client, attr=['note:"\\\\u0000"']) == ["x"]  # the JSON string "\\u0000", typed
    assert error_locations(await client.get("/items/", params={"attr": 'note:"\\u0000"'})) == [["query", "attr"]]
