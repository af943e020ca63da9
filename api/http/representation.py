"""Answers made straight from models, each serialized once, with a strong ETag: a hash of
the bytes sent.

A handler that returns a model has FastAPI validate it again against its response model,
then serialize it. The models here are built from rows that were validated on the way in,
so the second pass buys only time. Handlers return `json(model)`, and keep the model as
`response_model` for the OpenAPI document.

The bytes are pydantic-core's, the same FastAPI sends for a response model. The accelerator
writes the same bytes with orjson where it can (api/fastpath/writer.py).
"""

import hashlib
from collections.abc import Callable, Mapping
from contextvars import ContextVar

from pydantic import BaseModel
from starlette.responses import Response

JSON = "application/json"


def pydantic_core_bytes(model: BaseModel) -> bytes:
    """The model's JSON as FastAPI would send it for a response model: pydantic-core's."""
    return model.__pydantic_serializer__.to_json(model)


Writer = Callable[[BaseModel], bytes]

# What writes a model's JSON for the request being served. The accelerator sets its own
# for the requests it serves (api/fastpath/writer.py: the same bytes, sooner).
writer: ContextVar[Writer] = ContextVar("writer", default=pydantic_core_bytes)


def body_of(model: BaseModel) -> bytes:
    return writer.get()(model)


def etag(body: bytes) -> str:
    # SHA-256, cut to 128 bits: processors hash it in hardware, faster than BLAKE2 here.
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def json(model: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = body_of(model)
    return Response(body, status, {"ETag": etag(body), **(headers or {})}, media_type=JSON)


def no_content() -> Response:
    """A 204: no body, so no media type either."""
    return Response(status_code=204)
