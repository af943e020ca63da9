"""Browser pages on the origins in CORS_ORIGINS may call the API, with Starlette's CORS
middleware; others may not; preflights never reach the database."""

from api.main import EXPOSED_HEADERS
from tests.conftest import LISTED_ORIGIN as ALLOWED


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }


async def test_a_preflight_from_a_listed_origin_is_allowed_without_a_database(listing_an_origin, statements):
    async with statements.recording() as sent:
        response = await listing_an_origin.options("/items/", headers=_preflight(ALLOWED))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "idempotency-key" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-request-id"]
    assert sent == []


async def test_a_preflight_from_another_origin_is_refused(listing_an_origin):
    response = await listing_an_origin.options("/items/", headers=_preflight("https://evil.example"))

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_answers_to_a_listed_origin_expose_the_headers_a_client_reads(listing_an_origin):
    response = await listing_an_origin.get("/items/", headers={"Origin": ALLOWED})

    assert response.headers["access-control-allow-origin"] == ALLOWED
    exposed = {name.strip().lower() for name in response.headers["access-control-expose-headers"].split(",")}
    assert exposed == {name.lower() for name in EXPOSED_HEADERS}


async def test_without_cors_origins_no_answer_allows_another_origin(client):
    response = await client.get("/items/", headers={"Origin": ALLOWED})

    assert "access-control-allow-origin" not in response.headers


async def test_a_304_to_a_listed_origin_keeps_the_cors_headers(listing_an_origin):
    """Without them a browser takes the 304 for a failed fetch (tests/test_browser.py saw it)."""
    read = await listing_an_origin.get("/items/", headers={"Origin": ALLOWED})

    again = await listing_an_origin.get("/items/", headers={"Origin": ALLOWED, "If-None-Match": read.headers["etag"]})

    assert again.status_code == 304
    assert again.headers["access-control-allow-origin"] == ALLOWED
    assert "etag" in again.headers["access-control-expose-headers"].lower()
