"""HEAD wherever GET works, OPTIONS everywhere, and redirects that never name a host
(api/http/methods.py), on every path the document publishes."""

import pytest

from tests import inventory

PATHS = list(inventory.document()["paths"])
# Each answer's own: its id, its moment, and the time it spent in the database (Server-Timing).
PER_REQUEST = ("x-request-id", "date", "server-timing")


def _concrete(template: str) -> str:
    return inventory.with_id(template, 1).replace("{", "").replace("}", "")


@pytest.mark.parametrize("template", [t for t in PATHS if "get" in inventory.document()["paths"][t]])
async def test_head_answers_as_get_without_the_body(client, ann, template):
    url = _concrete(template)

    got = await client.get(url, headers=ann.headers)
    head = await client.head(url, headers=ann.headers)

    assert head.status_code == got.status_code
    assert head.content == b""
    same = {name: value for name, value in head.headers.items() if name not in PER_REQUEST}
    assert same == {name: value for name, value in got.headers.items() if name not in PER_REQUEST}
    assert ("server-timing" in head.headers) == ("server-timing" in got.headers)


@pytest.mark.parametrize("template", PATHS)
async def test_options_names_the_methods_of_the_path(client, template):
    offered = {method.upper() for method in inventory.document()["paths"][template]}

    response = await client.options(_concrete(template))

    assert response.status_code == 204 and response.content == b""
    allowed = set(response.headers["allow"].split(", "))
    assert allowed == offered | {"OPTIONS"} | ({"HEAD"} if "GET" in offered else set())


async def test_options_on_a_path_nobody_serves_is_a_404(client):
    assert (await client.options("/nowhere")).status_code == 404


async def test_a_head_of_a_conditional_get_is_a_304_too(client, ann):
    created = await client.post("/items/", json={"name": "lamp", "price": 1}, headers=ann.headers)
    url = created.headers["location"]
    tag = (await client.get(url)).headers["etag"]

    response = await client.head(url, headers={"If-None-Match": tag})

    assert response.status_code == 304 and response.content == b""


async def test_the_trailing_slash_redirect_never_names_the_host_the_client_sent(client):
    response = await client.get("/items", headers={"Host": "evil.example"}, params={"limit": 2})

    assert response.status_code == 307
    assert response.headers["location"] == "/items/?limit=2"
