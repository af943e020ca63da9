"""A request id on every request, every response and every log line of it.

The id comes from the client's `X-Request-ID` when it sends a sane one, otherwise it is
made here. api/http/edge.py reads it, sets it for the request's logs and sends it back; it is
also what a 500 answer names, and nothing more, for an error nothing else handled.
"""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar

HEADER = b"x-request-id"
ACCEPTED_ID = re.compile(rb"\A[A-Za-z0-9._:-]{1,128}\Z")  # no spaces or control characters in our logs

request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def accepted_or_new(sent: bytes | None) -> str:
    """The id the client sent, if it is a sane one; otherwise a new one."""
    if sent is not None and ACCEPTED_ID.match(sent):
        return sent.decode()
    return os.urandom(16).hex()  # 32 hex digits, as uuid4().hex, at a quarter of its cost
