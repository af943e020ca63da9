"""Request bodies larger than the limit are refused with 413, before they are read whole.

A declared Content-Length over the limit is refused at once (api/http/edge.py); a body without
one (chunked) is counted as it arrives and refused as soon as it passes the limit. A body
that declares its length needs no counting: the server reads no more than it declared.
"""

from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive

from api.http.errors import problem


def _detail(max_bytes: int) -> str:
    return f"The request body is larger than {max_bytes} bytes."


def declared_too_large(content_length: bytes | None, max_bytes: int) -> bool:
    return content_length is not None and content_length.isdigit() and int(content_length) > max_bytes


def refusal(max_bytes: int) -> Response:
    return problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _detail(max_bytes))


def counting(receive: Receive, max_bytes: int) -> Receive:
    """`receive`, raising 413 once the body read so far passes the limit."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                # FastAPI lets an HTTPException raised while reading the body through as is.
                raise HTTPException(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _detail(max_bytes))
        return message

    return receive_within_limit
