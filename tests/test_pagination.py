"""Keyset pagination on every list: opaque cursors, next links in the body and the Link
header, pages that stay put while rows are inserted, and counts only when asked for."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests import inventory
from tests.problems import error_locations

# Every list the document publishes, and the filtered lists of posts.
LISTS = [*inventory.lists(), "/posts/?tag=news", "/posts/?q=lamp"]
ROWS = 7


@pytest.fixture
async def listed(client, ann):
    """Seven members of every collection (ann and six more users), made from the bodies the
    document accepts; every post tagged 'news' and titled 'Lamp n'."""
    for name in inventory.collections():
        headers = ann.headers if inventory.needs_token(name) else {}
        have = len((await client.get(f"/{name}/")).json()["data"])
        for n in range(have, ROWS):
            created = await client.post(f"/{name}/", json=inventory.new(name, n), headers=headers)
            assert created.status_code == 201, created.text
    return ann


async def walk(client, url, limit):
    """Every page from url on, following next links; returns (rows, pages)."""
    rows, pages, next_url = [], 0, url
    while next_url:
        response = await client.get(next_url, params={"limit": limit} if pages == 0 else None)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= limit
        if body["next"]:
            assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
            assert parse_qs(urlsplit(body["next"]).query)["cursor"] == [body["cursor"]]
        else:
            assert "link" not in response.headers
            assert body["cursor"] is None
        rows += body["data"]
        pages += 1
        next_url = body["next"]
    return rows, pages


@pytest.mark.parametrize("url", LISTS)
async def test_following_next_links_shows_every_row_exactly_once(client, listed, url):
    url = inventory.with_id(url, listed.id)
    everything = (await client.get(url, params={"limit": 100})).json()["data"]

    rows, pages = await walk(client, url, limit=3)

    assert rows == everything
    assert len(rows) == ROWS and pages == 3


@pytest.mark.parametrize("url", LISTS)
async def test_following_bare_cursors_shows_every_row_exactly_once(client, listed, url):
    """What a generated client does: the same query again, with the cursor it was given."""
    url = inventory.with_id(url, listed.id)
    everything = (await client.get(url, params={"limit": 100})).json()["data"]
    rows, pages, cursor = [], 0, None

    while pages == 0 or cursor is not None:
        body = (await client.get(url, params={"limit": 3} | ({"cursor": cursor} if cursor else {}))).json()
        rows += body["data"]
        pages += 1
        cursor = body["cursor"]

    assert rows == everything
    assert pages == 3


async def test_a_full_last_page_links_to_nothing(client, ann):
    for n in range(4):
        await client.post("/items/", json={"name": f"n{n}", "price": 1}, headers=ann.headers)

    response = await client.get("/items/", params={"limit": 4})

    assert len(response.json()["data"]) == 4
    assert response.json()["next"] is None and response.json()["cursor"] is None


async def test_pages_stay_put_while_posts_are_written(client, ann):
    for n in range(6):
        await client.post("/posts/", json={"title": f"Old {n}", "content": "x"}, headers=ann.headers)
    first = (await client.get("/posts/", params={"limit": 3})).json()

    for n in range(4):  # newer posts arrive on top while the client reads on
        await client.post("/posts/", json={"title": f"New {n}", "content": "x"}, headers=ann.headers)
    second = (await client.get(first["next"])).json()

    titles = [p["title"] for p in first["data"] + second["data"]]
    assert titles == ["Old 5", "Old 4", "Old 3", "Old 2", "Old 1", "Old 0"]


async def test_skip_pages_shift_when_posts_are_written_which_cursors_avoid(client, ann):
    for n in range(6):
        await client.post("/posts/", json={"title": f"Old {n}", "content": "x"}, headers=ann.headers)
    first = (await client.get("/posts/", params={"limit": 3})).json()
    await client.post("/posts/", json={"title": "New", "content": "x"}, headers=ann.headers)

    by_skip = (await client.get("/posts/", params={"limit": 3, "skip": 3})).json()

    assert by_skip["data"][0]["title"] == first["data"][-1]["title"]  # shown twice: what cursors are for


@pytest.mark.parametrize("cursor", ["nonsense!", "e30", "eyJpZCI6MH0", "eyJpZCI6ImEifQ", "x" * 201])
async def test_a_cursor_not_handed_out_by_the_service_is_refused(client, cursor):
    assert error_locations(await client.get("/items/", params={"cursor": cursor})) == [["query", "cursor"]]


@pytest.mark.parametrize("url", LISTS)
async def test_counts_come_only_when_asked_for(client, listed, url):
    url = inventory.with_id(url, listed.id)

    plain = await client.get(url, params={"limit": 2})
    flagged = await client.get(url, params={"limit": 2, "count": "true"})
    preferred = await client.get(url, params={"limit": 2}, headers={"Prefer": "count=exact"})

    assert plain.json()["count"] is None
    assert flagged.json()["count"] == preferred.json()["count"] == ROWS
    assert preferred.headers["preference-applied"] == "count=exact"
    assert "preference-applied" not in flagged.headers


@pytest.mark.parametrize(
    ("prefer", "counted"),
    [
        ("respond-async, count=exact", True),
        ('Count="exact"; strict', True),
        ("count=exactly", False),
        ("max-count=exact", False),
        ("count", False),
        ('foo="x, count=exact"', False),  # a comma inside a quoted value ends no preference
        ("count=exact,,", False),  # no preference list: ignored whole
        ('count="exact', False),
    ],
)
async def test_prefer_is_read_preference_by_preference(client, listed, prefer, counted):
    answer = await client.get("/items/", params={"limit": 2}, headers={"Prefer": prefer})

    assert (answer.json()["count"] is not None) is counted
    assert ("preference-applied" in answer.headers) is counted


async def test_the_default_list_sends_one_statement_and_a_count_one_more(client, listed, statements):
    async with statements.recording() as plain:
        await client.get("/posts/", params={"limit": 20})
    async with statements.recording() as counted:
        await client.get("/posts/", params={"limit": 20, "count": "true"})

    assert plain == ["posts/list"]
    assert counted == ["posts/list", "posts/count"]


def test_the_document_names_every_list():
    assert len(inventory.lists()) >= 4 and all(url.endswith(("/", "/posts")) for url in inventory.lists())


# For every list, a value of each query parameter it declares (but the cursor and skip, which
# the link replaces) that keeps at least two of `listed`'s rows, in canonical form.
EVERY_FILTER = {
    "/users/": {"limit": "1", "count": "true"},
    "/posts/": {"q": "lamp", "highlight": "true", "tag": "news", "limit": "1", "count": "true"},
    "/users/{user_id}/posts": {"limit": "1", "count": "true"},
    "/items/": {
        "min_price": "0",
        "max_price": "100",
        "attr": ["size:10", 'color:"red"'],
        "limit": "1",
        "count": "true",
    },
}


def test_every_filter_of_every_list_is_among_those_the_next_link_is_checked_for():
    document = inventory.document()["paths"]
    declared = {
        path: {p["name"] for p in document[path]["get"]["parameters"] if p["in"] == "query"} - {"cursor", "skip"}
        for path in inventory.lists()
    }
    assert {path: set(params) for path, params in EVERY_FILTER.items()} == declared


@pytest.mark.parametrize("url", list(EVERY_FILTER))
async def test_a_next_link_carries_every_parsed_filter_and_nothing_else(client, listed, url):
    for n in (1, 2):
        item = {"name": f"Mug {n}", "price": n, "attributes": {"size": 10, "color": "red"}}
        assert (await client.post("/items/", json=item, headers=listed.headers)).status_code == 201
    sent = EVERY_FILTER[url]

    body = (await client.get(inventory.with_id(url, listed.id), params={**sent, "stray": "x", "skip": "0"})).json()

    assert body["next"] is not None, body
    assert parse_qs(urlsplit(body["next"]).query) == {
        **{name: value if isinstance(value, list) else [value] for name, value in sent.items()},
        "cursor": [body["cursor"]],
    }


@pytest.mark.parametrize(
    ("attr", "linked"),
    [
        (["color:red"], ['color:"red"']),  # the string, quoted: it reads back as the same filter
        (["color:red", "color:red"], ['color:"red"']),
        (["size:10", "big:true"], ["size:10", "big:true"]),
        (['k:"caf\u00e9"'], ['k:"caf\u00e9"']),
    ],
)
async def test_a_next_link_writes_the_attribute_filter_as_it_was_parsed(client, ann, attr, linked):
    for n in (1, 2):
        item = {
            "name": f"Mug {n}",
            "price": n,
            "attributes": {"size": 10, "color": "red", "big": True, "k": "caf\u00e9"},
        }
        await client.post("/items/", json=item, headers=ann.headers)

    first = (await client.get("/items/", params={"attr": attr, "limit": 1})).json()
    second = (await client.get(first["next"])).json()

    assert parse_qs(urlsplit(first["next"]).query)["attr"] == linked
    assert [item["name"] for item in first["data"] + second["data"]] == ["Mug 1", "Mug 2"]
