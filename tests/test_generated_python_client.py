"""A Python client generated from the app's own OpenAPI document (openapi-python-client), driven
through the flows a client developer writes first, with no hand-written HTTP: if the document
says less or other than the service does (a status it leaves out, a header it types wrongly, a
page that takes URL parsing to follow), the generated client fails here.

The client is generated afresh into a temporary directory on every run, imported, and given an
httpx transport to the app: the requests run through the real app, its lifespan and PostgreSQL.
It raises on any status its operation does not declare.
"""

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from http import HTTPStatus
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.processes import DEADLINE
from tests.queries import test_queries

pytest.importorskip("openapi_python_client", reason="openapi-python-client (a dev dependency) is not installed")

PACKAGE = "generated_api_client"
COUNT_ITEMS = test_queries.value("items/count_all", int)


def _snake(name: str) -> str:
    """A name as openapi-python-client makes a module name of it."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-zA-Z0-9]+", "_", spaced).strip("_").lower()


class Generated:
    """The generated package, and its operations found by method and path in the document."""

    def __init__(self, package: ModuleType, document: dict[str, Any], transport: httpx.AsyncBaseTransport) -> None:
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.document = document
        self.transport = transport

    def operation(self, method: str, path: str) -> ModuleType:
        declared = self.document["paths"][path][method]
        tag = _snake(declared["tags"][0])
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{_snake(declared['operationId'])}")

    def client(self, token: str | None = None) -> Any:
        """A client that raises on any status the called operation does not declare."""
        options = {
            "base_url": "http://test",
            "raise_on_unexpected_status": True,
            "httpx_args": {"transport": self.transport},
        }
        if token is None:
            return self.package.Client(**options)
        return self.package.AuthenticatedClient(token=token, **options)


@pytest.fixture(scope="module")
def generated(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    where = tmp_path_factory.mktemp("generated")
    document = app.openapi()
    (where / "openapi.json").write_text(json.dumps(document))
    # No post hooks: the generator would run ruff over its output, which only formats it.
    (where / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"]
    command += ["--path", str(where / "openapi.json"), "--config", str(where / "config.yaml")]
    command += ["--output-path", str(where / PACKAGE)]
    made = subprocess.run(command, capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Warning" not in made.stdout + made.stderr, made.stdout + made.stderr  # nothing it had to skip
    sys.path.insert(0, str(where))
    try:
        yield Generated(importlib.import_module(PACKAGE), document, httpx.ASGITransport(app=app))
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


async def _signed_up(generated: Generated, name: str) -> Any:
    """Sign up and sign in through the generated client; an authenticated client back."""
    models, anyone = generated.models, generated.client()
    password = f"{name} has a long passphrase"
    account = models.UserCreate(email=f"{name}@example.com", username=name, password=password)
    signed_up = await generated.operation("post", "/users/").asyncio_detailed(client=anyone, body=account)
    assert signed_up.status_code == HTTPStatus.CREATED, signed_up.content
    form = models.SignInForm(username=name, password=password)
    token = await generated.operation("post", "/auth/token").asyncio(client=anyone, body=form)
    assert isinstance(token, models.Token), token
    return generated.client(token.access_token)


async def test_items_created_filtered_followed_page_by_page_read_again_changed_and_deleted(generated, client, db):
    models, ann = generated.models, await _signed_up(generated, "ann")
    create = generated.operation("post", "/items/")
    for n in range(8):
        attributes = models.ItemCreateAttributes.from_dict({"color": "red" if n % 4 else "blue", "size": n})
        body = models.ItemCreate(name=f"Lamp {n}", price=1000 + n, attributes=attributes)
        created = await create.asyncio_detailed(client=ann, body=body, idempotency_key=f"lamp-{n}")
        assert created.status_code == HTTPStatus.CREATED and isinstance(created.parsed, models.ItemPublic)
        assert created.headers["location"] == f"/items/{created.parsed.id}"
    retried = await create.asyncio_detailed(client=ann, body=body, idempotency_key="lamp-7")
    assert retried.headers["idempotent-replayed"] == "true" and retried.parsed == created.parsed
    assert await db.run(COUNT_ITEMS) == 8

    # Six red ones, two a page: three pages, followed by the bare cursor alone.
    list_items, pages, cursor, names = generated.operation("get", "/items/"), 0, None, []
    while pages == 0 or cursor is not None:
        page = await list_items.asyncio(client=ann, attr=["color:red"], limit=2, cursor=cursor)
        assert isinstance(page, models.ItemsPublic), page
        names += [item.name for item in page.data]
        cursor, pages = page.cursor, pages + 1
    assert pages == 3
    assert names == [f"Lamp {n}" for n in range(8) if n % 4]

    read_item, item_id = generated.operation("get", "/items/{item_id}"), created.parsed.id
    read = await read_item.asyncio_detailed(item_id, client=ann)
    etag = read.headers["etag"]
    unchanged = await read_item.asyncio_detailed(item_id, client=ann, if_none_match=etag)
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED and not unchanged.content

    update_item = generated.operation("patch", "/items/{item_id}")
    changed = await update_item.asyncio_detailed(item_id, client=ann, body=models.ItemUpdate(price=1), if_match=etag)
    assert changed.status_code == HTTPStatus.OK and changed.parsed.price == 1
    stale = await update_item.asyncio_detailed(item_id, client=ann, body=models.ItemUpdate(price=2), if_match=etag)
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED and isinstance(stale.parsed, models.Problem)
    assert (await read_item.asyncio(item_id, client=ann)).price == 1

    deleted = await generated.operation("delete", "/items/{item_id}").asyncio_detailed(item_id, client=ann)
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    gone = await read_item.asyncio_detailed(item_id, client=ann)
    assert gone.status_code == HTTPStatus.NOT_FOUND and isinstance(gone.parsed, models.Problem)


async def test_posts_written_with_tags_and_found_with_highlights(generated, client):
    models, ann = generated.models, await _signed_up(generated, "ann")
    create = generated.operation("post", "/posts/")
    for title, content, tags in [
        ("Brass lamps", "A lamp of brass lights the hall.", ["lamps", "brass"]),
        ("Tea", "Green tea, steeped briefly.", ["tea"]),
    ]:
        written = await create.asyncio_detailed(
            client=ann, body=models.PostCreate(title=title, content=content, tags=tags)
        )
        assert written.status_code == HTTPStatus.CREATED and written.parsed.tags == sorted(tags)

    list_posts = generated.operation("get", "/posts/")
    tagged = await list_posts.asyncio(client=ann, tag="tea")
    assert [post.title for post in tagged.data] == ["Tea"]
    found = await list_posts.asyncio(client=ann, q="lamp", highlight=True)
    assert [post.title for post in found.data] == ["Brass lamps"]
    assert "<mark>lamp</mark>" in found.data[0].snippet and found.data[0].rank > 0
    assert found.cursor is None and found.next_ is None
