"""HEAD wherever GET works, OPTIONS everywhere, and redirects that never name a host
(api/http/methods.py), on every path the document publishes and every one the app serves
beside it."""

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from api.config import Settings
from api.main import create_app
from tests import inventory
from tests.accounts import new_account

PATHS = list(inventory.document()["paths"])
# Each answer's own: its id, its moment, and the time it spent in the database (Server-Timing).
PER_REQUEST = ("x-request-id", "date", "server-timing")


def _concrete(template: str) -> str:
    return inventory.with_id(template, 1).replace("{", "").replace("}", "")


def _unpublished() -> dict[str, set[str]]:
    """Each path the app serves outside the document, a concrete one, with its routes' methods."""
    app = create_app(Settings(_env_file=None, database_url="postgresql://unused/unused"))
    found: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found[f"{route.path}/any/file.css"] = {"GET"}  # static files: reads only
        elif route.path not in inventory.document()["paths"] and route.methods:
            found.setdefault(str(route.path), set()).update(route.methods)
    return found


UNPUBLISHED = _unpublished()


@pytest.mark.parametrize("template", [t for t in PATHS if "get" in inventory.document()["paths"][t]])
async def test_head_answers_as_get_without_the_body(client, ann, template):
    url = inventory.member_url(template, await inventory.members(client, ann))

    got = await client.get(url, headers=ann.headers)
    head = await client.head(url, headers=ann.headers)

    assert got.status_code == 200, (url, got.text)  # a real answer, not a 404 on both
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


def test_the_app_serves_paths_the_document_leaves_out():
    assert {"/metrics", "/docs", "/openapi.json"} <= UNPUBLISHED.keys()
    assert any(path.startswith("/docs/assets/") for path in UNPUBLISHED)


@pytest.mark.parametrize("path", UNPUBLISHED)
async def test_options_names_the_methods_of_a_path_the_document_leaves_out(client, path):
    offered = UNPUBLISHED[path]

    response = await client.options(path)

    assert response.status_code == 204 and response.content == b""
    assert set(response.headers["allow"].split(", ")) == offered | {"OPTIONS", "HEAD"}


@pytest.mark.parametrize("path", UNPUBLISHED)
async def test_a_method_a_path_the_document_leaves_out_does_not_serve_is_a_405_with_allow(client, path):
    response = await client.delete(path)

    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == UNPUBLISHED[path] | {"OPTIONS", "HEAD"}


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


FORGED = {"Host": "evil.example"}


async def test_a_forged_host_never_reaches_a_location_a_link_or_a_redirect(client, ann):
    signed = {**ann.headers, **FORGED}
    made: dict[str, int] = {"users": ann.id}
    for name in inventory.collections():
        if name != "users":
            for n in (1, 2):  # two of each: a page of one has a next
                created = await client.post(f"/{name}/", json=inventory.new(name, n), headers=signed)
                assert created.status_code == 201 and created.headers["location"].startswith(f"/{name}/")
                made[name] = created.json()["id"]
    await inventory.members(client, await new_account(client, "another"))  # a second user too
    answers = []
    for path in inventory.lists():
        url = inventory.member_url(path, made)
        page = await client.get(url, params={"limit": 1}, headers=FORGED)
        assert page.status_code == 200 and page.json()["next"], url
        answers.append(page)
        if url.endswith("/"):  # a collection: without its slash, a redirect to it
            answers.append(redirect := await client.get(url.rstrip("/"), params={"limit": 1}, headers=FORGED))
            assert redirect.status_code == 307, url

    for answer in answers:
        sent = [answer.headers.get(name, "") for name in ("location", "link")]
        body = answer.json() if answer.status_code == 200 else {}
        assert not any("evil.example" in text for text in [*sent, str(body.get("next"))]), answer.url
