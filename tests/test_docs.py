"""The API's own documentation: the OpenAPI document and Swagger UI, served with no internet."""

import re


async def test_swagger_ui_is_served_with_local_assets_only(client):
    response = await client.get("/docs")

    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets and all(url.startswith("/docs/assets/") for url in assets)
    assert "cdn" not in response.text.lower()
    types = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for url in assets:
        asset = await client.get(url)
        assert asset.status_code == 200 and asset.content
        assert types[url[url.rindex(".") :]] in asset.headers["content-type"]


async def test_openapi_document_lists_every_endpoint(client):
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert {path: sorted(ops) for path, ops in paths.items()} == {
        "/items/": ["get", "post"],
        "/items/{item_id}": ["delete", "get", "patch"],
        "/users/": ["get", "post"],
        "/users/{user_id}": ["get"],
        "/health/live": ["get"],
        "/health/ready": ["get"],
    }
