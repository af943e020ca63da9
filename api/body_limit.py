"""Request bodies larger than the limit are refused with 413, before they are read whole.

A declared Content-Length over the limit is refused at once; a body without one (chunked)
is counted as it arrives and refused as soon as it passes the limit.
"""

from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"The request body is larger than {max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self.detail)(scope, receive, send)
                return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException raised while reading the body through as is.
                    raise HTTPException(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self.detail)
            return message

        await self.app(scope, receive_within_limit, send)
