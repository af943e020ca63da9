"""The app's short stack (api/edge.py): one layer of the service's own, then Starlette's
exception middleware and the router; what FastAPI's dropped layers did is still done."""

import httpx
import pytest
from fastapi import UploadFile
from starlette.middleware.exceptions import ExceptionMiddleware

from api.edge import EdgeApp, EdgeMiddleware
from api.metrics import RequestMetrics


def test_a_request_passes_the_edge_the_exception_handlers_and_the_router(app):
    stack = app.build_middleware_stack()

    assert isinstance(stack, EdgeMiddleware)
    assert isinstance(stack.app, ExceptionMiddleware)
    assert stack.app.app is app.router


def _edge_app() -> EdgeApp:
    app = EdgeApp()
    app.add_middleware(EdgeMiddleware, metrics=RequestMetrics(), max_body_bytes=1 << 20)
    return app


async def test_fastapis_own_handlers_still_close_uploaded_files():
    app = _edge_app()
    uploads = []

    @app.post("/upload")
    async def upload(file: UploadFile) -> dict[str, int]:  # served by FastAPI's handler (a form)
        uploads.append(file)
        return {"size": len(await file.read())}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/upload", files={"file": ("a.txt", b"twelve bytes")})

    assert response.json() == {"size": 12}
    assert uploads[0].file.closed


def test_fastapis_body_limit_is_refused_for_the_edges_own():
    app = EdgeApp(max_body_size=1000)

    with pytest.raises(RuntimeError, match="body limit"):
        app.build_middleware_stack()


@pytest.mark.parametrize("key", [Exception, 500])
def test_a_handler_for_unhandled_errors_is_refused_since_the_edge_answers_them(key):
    app = _edge_app()

    async def handler(request, exc):  # pragma: no cover - never called
        raise AssertionError

    app.add_exception_handler(key, handler)

    with pytest.raises(RuntimeError, match="unhandled errors"):
        app.build_middleware_stack()
