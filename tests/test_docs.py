"""The API's own documentation: the OpenAPI document and Swagger UI, served with no internet;
the settings, as the README and .env.example list them."""

import re
from pathlib import Path

from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.config import Settings
from api.data.table_comments import comments
from api.http.openapi import schema_tables
from api.main import ROUTERS
from tests.queries import test_queries


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


async def test_openapi_document_lists_every_resource_route_and_nothing_else(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    declared: dict[str, set[str]] = {}
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.include_in_schema:
                declared.setdefault(route.path, set()).update(method.lower() for method in route.methods)

    assert {path: set(operations) for path, operations in paths.items()} == declared
    assert len(declared) >= 10 and not {"/docs", "/metrics", "/openapi.json"} & paths.keys()


async def test_every_error_is_documented_as_problem_details(client):
    document = (await client.get("/openapi.json")).json()

    error_bodies = [
        (path, method, status, set(response.get("content", {})))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert error_bodies
    # The one exception, by design: sign-in failures as OAuth2 clients read them (RFC 6749 5.2).
    oauth2 = ("/auth/token", "post", "400", {"application/json"})
    assert [e for e in error_bodies if e[3] != {"application/problem+json"}] == [oauth2]


async def test_writes_are_documented_as_needing_a_bearer_token(client):
    document = (await client.get("/openapi.json")).json()

    scheme = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    assert "security" in document["paths"]["/items/"]["post"]
    assert "security" not in document["paths"]["/items/"]["get"]


class Comment(BaseModel):
    description: str
    commented: str


DATABASE_COMMENTS = test_queries.many("schema/comments", Comment)


async def test_the_comments_read_from_the_migrations_are_the_databases(db):
    in_the_database = {row.commented: row.description for row in await db.run(DATABASE_COMMENTS)}

    assert comments() == in_the_database
    assert "items.price" in in_the_database and "users" in in_the_database


async def test_the_openapi_document_describes_fields_in_the_dbas_words(client):
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    said = comments()

    assert schemas["ItemPublic"]["description"] == said["items"]
    assert schemas["ItemPublic"]["properties"]["price"]["description"] == said["items.price"]
    assert schemas["PostPublic"]["properties"]["title"]["description"] == said["posts.title"]
    undescribed = [
        f"{name}.{field}"
        for name, table in schema_tables().items()
        if name in schemas
        for field, spec in schemas[name].get("properties", {}).items()
        if f"{table}.{field}" in said and not spec.get("description")
    ]
    assert undescribed == []
    assert {"ItemPublic", "PostPublic", "UserPublic", "Author"} <= schema_tables().keys()
    assert "description" not in schemas["ItemsPublic"]  # a page holds no column of its own


def test_every_setting_is_in_the_readme_table_and_in_env_example():
    root = Path(__file__).parent.parent
    names = {name.upper() for name in Settings.model_fields}
    table = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", (root / "README.md").read_text(), re.MULTILINE))
    example = set(re.findall(r"^#? ?([A-Z0-9_]+)=", (root / ".env.example").read_text(), re.MULTILINE))

    assert table == names, f"README settings table: missing {names - table}, unknown {table - names}"
    assert example == names, f".env.example: missing {names - example}, unknown {example - names}"
