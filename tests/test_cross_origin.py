"""A write from a browser page on another origin is refused before it runs
(api/http/cross_origin.py); the pages CORS_ORIGINS lists, same-origin pages and clients that
are no browser write as before."""

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.main import create_app
from tests import inventory
from tests.conftest import LISTED_ORIGIN as LISTED
from tests.problems import assert_problem

ELSEWHERE = "https://elsewhere.example"
WRITES = [
    (path, method)
    for path, operations in inventory.document()["paths"].items()
    for method in operations
    if method in ("post", "put", "patch", "delete")
]


@pytest.mark.parametrize(("path", "method"), WRITES, ids=[f"{m.upper()} {p}" for p, m in WRITES])
async def test_every_write_from_a_page_on_another_origin_is_a_403_that_sends_no_statement(
    client, ann, statements, path, method
):
    headers = {**ann.headers, "Origin": ELSEWHERE, "Sec-Fetch-Site": "cross-site"}

    async with statements.recording() as sent:
        response = await client.request(method.upper(), inventory.with_id(path, 1), headers=headers, json={})

    assert_problem(response, 403)
    assert "another origin" in response.json()["detail"]
    assert sent == []
    assert "403" in inventory.document()["paths"][path][method]["responses"]


async def test_a_sign_in_form_from_another_origin_is_refused_though_a_browser_sends_it_unasked(client, ann, statements):
    """A form POST is a "simple" request: no preflight asks first, so CORS alone would let it
    run. Refused, it counts no failure against the address and hashes nothing."""
    form = {"username": ann.username, "password": "a wrong guess"}

    async with statements.recording() as sent:
        response = await client.post("/auth/token", data=form, headers={"Origin": ELSEWHERE})

    assert_problem(response, 403)
    assert sent == []
    signed_in = await client.post("/auth/token", data={"username": ann.username, "password": ann.password})
    assert signed_in.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://test"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://test"},  # an older browser, same origin: Origin names the Host
        {"Origin": "http://TEST", "Host": "test:80"},  # as URLs compare: case, the default port
        {"Origin": "https://test"},  # TLS ended at a proxy: the Host it passes names no port
        {"Origin": "http://[::1]:8443", "Host": "[::1]:8443"},
        {},  # no browser at all
    ],
    ids=[
        "same-origin page",
        "typed address",
        "older browser on this origin",
        "host in another case, default port",
        "https behind a proxy",
        "IPv6 host",
        "not a browser",
    ],
)
async def test_writes_from_this_origin_or_from_no_browser_go_through(client, headers):
    account = {"email": "cat@example.com", "username": "cat", "password": "cat has a long passphrase"}

    response = await client.post("/users/", json=account, headers=headers)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": ELSEWHERE},  # an older browser: no Sec-Fetch-Site
        {"Origin": "null"},  # a sandboxed page or a file
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.test"},  # a sibling subdomain is another origin
        {"Origin": "http://test:8080"},  # another port is another origin
        {"Origin": "http://test:99999"},  # no port at all
    ],
    ids=["older browser", "opaque origin", "same site", "another port", "a port out of range"],
)
async def test_writes_from_other_origins_are_refused_by_whatever_signal_the_browser_sends(client, headers):
    account = {"email": "dan@example.com", "username": "dan", "password": "dan has a long passphrase"}

    response = await client.post("/users/", json=account, headers=headers)

    assert_problem(response, 403)


async def test_a_page_on_a_listed_origin_writes(client, listing_an_origin):
    account = {"email": "eve@example.com", "username": "eve", "password": "eve has a long passphrase"}
    headers = {"Origin": LISTED, "Sec-Fetch-Site": "cross-site"}

    response = await listing_an_origin.post("/users/", json=account, headers=headers)

    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == LISTED


async def test_reads_from_another_origin_are_answered_and_left_to_cors(client, listing_an_origin):
    elsewhere = await listing_an_origin.get("/items/", headers={"Origin": ELSEWHERE, "Sec-Fetch-Site": "cross-site"})
    listed = await listing_an_origin.get("/items/", headers={"Origin": LISTED, "Sec-Fetch-Site": "cross-site"})

    assert elsewhere.status_code == listed.status_code == 200
    assert "access-control-allow-origin" not in elsewhere.headers  # the browser keeps it from the page
    assert listed.headers["access-control-allow-origin"] == LISTED


async def test_cors_origins_star_lets_every_page_write(client, settings):
    app = create_app(settings.model_copy(update={"cors_origins": ["*"]}))
    transport = httpx.ASGITransport(app=app)
    account = {"email": "fay@example.com", "username": "fay", "password": "fay has a long passphrase"}
    async with LifespanManager(app), httpx.AsyncClient(transport=transport, base_url="http://test") as anywhere:
        response = await anywhere.post(
            "/users/", json=account, headers={"Origin": ELSEWHERE, "Sec-Fetch-Site": "cross-site"}
        )

    assert response.status_code == 201, response.text
