"""A request id on every request, every response and every log line of it.

The id comes from the client's `X-Request-ID` when it sends a sane one, otherwise it is
made here. This middleware is also the last line of defence: an exception nothing else
handled is logged with the id and answered with a 500 problem that says nothing more.
"""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import internal_error

HEADER = b"x-request-id"
ACCEPTED_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")  # no spaces or control characters in our logs

request_id: ContextVar[str] = ContextVar("request_id", default="-")
log = logging.getLogger("api.request")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def _incoming_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and ACCEPTED_ID.match(value):
            return value.decode()
    return os.urandom(16).hex()  # 32 hex digits, as uuid4().hex, at a quarter of its cost


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        request_id.set(rid)
        header = (HEADER, rid.encode())
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if response_started:
                raise  # too late for a clean answer: let the server drop the connection
            await internal_error(rid)(scope, receive, send_with_id)
