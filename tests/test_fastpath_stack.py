"""The accelerator's short stack (api/fastpath/stack.py): the service's edge layer, Starlette's
exception middleware and the index; FastAPI's own stack wherever one of its layers has work."""

import httpx
import pytest
from fastapi import FastAPI, UploadFile
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.middleware.gzip import GZipMiddleware

from api import fastpath
from api.fastpath.versions import untested
from api.http.edge import EdgeMiddleware
from api.observability.metrics import RequestMetrics

pytestmark = pytest.mark.skipif(bool(untested()), reason=f"the accelerator is off here: {untested()}")


def _accelerated_app(**options) -> FastAPI:
    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False}, **options)
    app.add_middleware(EdgeMiddleware, metrics=RequestMetrics(), max_body_bytes=1 << 20)
    assert fastpath.install(app, "on")
    return app


def test_a_request_passes_the_edge_the_exception_handlers_and_the_index():
    app = _accelerated_app()
    stack = app.build_middleware_stack()

    assert isinstance(stack, EdgeMiddleware)
    assert isinstance(stack.app, ExceptionMiddleware)
    assert stack.app.app is app.state.accelerated


async def test_fastapis_own_handlers_still_close_uploaded_files():
    app = _accelerated_app()
    uploads = []

    @app.post("/upload")
    async def upload(file: UploadFile) -> dict[str, int]:  # served by FastAPI's handler (a form)
        uploads.append(file)
        return {"size": len(await file.read())}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/upload", files={"file": ("a.txt", b"twelve bytes")})

    assert response.json() == {"size": 12}
    assert uploads[0].file.closed


async def _handler(request, exc):  # pragma: no cover - never called
    raise AssertionError


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda app: setattr(app, "max_body_size", 1000), "max_body_size"),
        (lambda app: app.add_exception_handler(Exception, _handler), "500 or Exception"),
        (lambda app: app.add_exception_handler(500, _handler), "500 or Exception"),
        (lambda app: app.add_middleware(GZipMiddleware), "outermost"),
    ],
    ids=["FastAPI's body limit", "a handler for Exception", "a handler for 500", "another middleware outside"],
)
def test_fastapis_own_stack_is_built_where_one_of_its_layers_has_work(change, reason, caplog):
    app = _accelerated_app()
    change(app)

    stack = app.build_middleware_stack()

    assert not isinstance(stack, EdgeMiddleware) or not isinstance(stack.app, ExceptionMiddleware)
    assert getattr(app.state, "accelerated", None) is None
    assert reason in caplog.text
