"""Limits on a request's head (its request line and headers), held before the app sees it.

uvicorn (with httptools) reads a head of any size, with any number of headers, for as long
as a client takes to send it: a 32 MB header was read whole, and a client sending a header
line every few seconds kept its connection for as long as it liked. uvicorn's own options
bound what comes after the head (`timeout_keep_alive`, the idle time between requests;
`limit_concurrency`, the connections a worker serves, 503 beyond), and `api/tools/serve.py`
sets those from the settings. What no option bounds with httptools is bounded here, in
uvicorn's documented place for it (a protocol class, its `http` option), as narrowly as it
goes: the protocol is uvicorn's own, with three checks around its parser, and its answers
past `limit_concurrency` made here.

- **Size** (MAX_HEADER_BYTES): the request line and headers together. Counted as bytes
  arrive while the head is incomplete, so a huge header is refused after MAX_HEADER_BYTES
  (plus one read), never buffered whole; and as the parser hands over each line, for a head
  that arrived in one piece. 431, then the connection is closed.
- **Count** (MAX_HEADERS): more header lines is a 431 too.
- **Time** (HEADER_TIMEOUT): from the connection's start, or from the first byte of a
  request on a kept-alive connection, to the end of the head. Past it: 408 and close (a
  connection that sends nothing at all is closed the same way).
- **Connections** (MAX_CONNECTIONS, uvicorn's `limit_concurrency`): past it, uvicorn would
  answer a bare text 503; the same count is checked here first, when a head is complete, and
  answered 503 as the app's are: problem details with `Retry-After` (RETRY_AFTER).

Every answer made here, and the 400 for a request the parser cannot read, carries
`X-Content-Type-Options: nosniff`, as the app's do, and closes the connection. Each refusal
is one log line, with the limit and no byte of the request.
"""

from __future__ import annotations

import json
import logging
from asyncio import TimerHandle, Transport
from functools import cache
from http import HTTPStatus
from typing import Any, NamedTuple

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.config import Settings
from api.http.errors import PROBLEM_JSON

log = logging.getLogger("api.http.request_head")


class HeadLimits(NamedTuple):
    max_bytes: int
    max_headers: int
    timeout: float
    retry_after: int  # seconds, in the 503 past MAX_CONNECTIONS


@cache
def head_limits() -> HeadLimits:
    """Read once per worker, from the environment the worker started with (as the app does)."""
    settings = Settings()
    return HeadLimits(settings.max_header_bytes, settings.max_headers, settings.header_timeout, settings.retry_after)


class HeadRefused(Exception):
    """Raised inside a parser callback to stop the parser; the answer is already chosen."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the head's size, header count and time bounded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = head_limits()
        self.head_pending = False  # between a request's first byte and the end of its head
        self.head_arrived = 0  # bytes received while the head was incomplete
        self.head_parsed = 0  # bytes of the request line and header lines the parser handed over
        self.head_lines = 0
        self.head_timer: TimerHandle | None = None
        self.refusal: HTTPStatus | None = None

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.start_head_timer()  # a connection that never sends a head is not kept either

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refusal is not None:
            return  # refused and closing: nothing more is read
        super().data_received(data)
        if self.head_pending and self.refusal is None:
            # Everything fed since the head began and the parser has not finished is head.
            self.head_arrived += len(data)
            if self.head_arrived > self.limits.max_bytes:
                self.refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)

    # The parser's callbacks.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_pending = True
        self.head_arrived = self.head_parsed = self.head_lines = 0
        if self.head_timer is None:  # the first request's timer runs from the connection's start
            self.start_head_timer()

    def on_url(self, url: bytes) -> None:
        self.count(len(url), lines=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.count(len(name) + len(value) + 4, lines=1)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.head_pending = False
        self.stop_head_timer()
        if self.refusal is not None:
            return  # a request pipelined behind a refused one: the connection is closing
        if self.crowded():
            # Answered here rather than raised: the parser's error path would log the request
            # as invalid. What follows the head on this connection is not read (below).
            self.refuse(HTTPStatus.SERVICE_UNAVAILABLE)
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.refusal is None:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.refusal is None:
            super().on_message_complete()

    def crowded(self) -> bool:
        """uvicorn's own test for its 503, made before it makes it: the same count, answered here."""
        limit = self.limit_concurrency
        return limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit)

    def count(self, size: int, lines: int) -> None:
        """The head as the parser hands it over: for one that arrived in a single read."""
        self.head_lines += lines
        self.head_parsed += size
        if self.head_lines > self.limits.max_headers or self.head_parsed > self.limits.max_bytes:
            self.refusal = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
            self.log_refusal()
            raise HeadRefused  # stops the parser; uvicorn calls send_400_response, answered below

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, which a refusal raised inside a callback becomes;
        any other is a request the parser cannot read, answered 400 here as uvicorn would, with
        nosniff."""
        self.answer_and_close(self.refusal or HTTPStatus.BAD_REQUEST)

    # Timer and answers.
    def start_head_timer(self) -> None:
        self.stop_head_timer()
        self.head_timer = self.loop.call_later(self.limits.timeout, self.head_too_slow)

    def stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_too_slow(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or not (self.head_pending or self.cycle is None):
            return  # the head arrived; the request's own time is the app's to bound
        self.refuse(HTTPStatus.REQUEST_TIMEOUT)

    def refuse(self, status: HTTPStatus) -> None:
        self.refusal = status
        self.log_refusal()
        self.answer_and_close(status)

    def log_refusal(self) -> None:
        """The limit that was passed, never a byte of the request."""
        if self.refusal == HTTPStatus.SERVICE_UNAVAILABLE:
            log.warning(
                "refused a request: %d connections open, %d requests in progress, at most %d (MAX_CONNECTIONS)",
                len(self.connections),
                len(self.tasks),
                self.limit_concurrency,
            )
        elif self.refusal == HTTPStatus.REQUEST_TIMEOUT:
            log.warning("refused a request head not complete within %g s (HEADER_TIMEOUT)", self.limits.timeout)
        elif self.head_lines > self.limits.max_headers:
            log.warning("refused a request head of more than %d headers (MAX_HEADERS)", self.limits.max_headers)
        else:
            log.warning("refused a request head over %d bytes (MAX_HEADER_BYTES)", self.limits.max_bytes)

    def answer_and_close(self, status: HTTPStatus) -> None:
        self.stop_head_timer()
        if self.transport.is_closing():
            return
        content_type, body, headers = self.answer_for(status)
        self.transport.write(
            b"".join(
                [
                    f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode(),
                    *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
                    b"content-type: " + content_type + b"\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    *headers,
                    b"x-content-type-options: nosniff\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()

    def answer_for(self, status: HTTPStatus) -> tuple[bytes, bytes, list[bytes]]:
        """Content type, body and further header lines: a 503 as the app's (a client retries it
        the same way), the refusals of a head as the short text they always were."""
        if status != HTTPStatus.SERVICE_UNAVAILABLE:
            return b"text/plain; charset=utf-8", f"{status.phrase}\n".encode(), []
        detail = "The server has all the connections it takes; retry after Retry-After seconds."
        problem = {"type": "about:blank", "title": status.phrase, "status": status.value, "detail": detail}
        retry_after = b"retry-after: " + str(self.limits.retry_after).encode() + b"\r\n"
        return PROBLEM_JSON.encode(), json.dumps(problem).encode(), [retry_after]
