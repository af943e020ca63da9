"""The one layer every request passes on its way in and out.

What the service does around every request is done here in one ASGI layer rather than
four: each layer is a call and a wrapped `send` per message, and the four took 10 of the
50 µs of app CPU a POST /items/ cost with the database stubbed. Each concern's rules live
in its own module; this layer only reads the request's headers once and applies them:

- the request id (api/http/request_id.py): taken or made, set for the logs, sent back, and the
  last line of defence: an exception nothing else handled is logged and answered 500;
- metrics (api/observability/metrics.py): every request counted and timed under its route template;
- conditional GET (api/http/conditional.py): 304 for an If-None-Match that names the answer's ETag;
- the body limit (api/http/body_limit.py): 413 for a body over MAX_BODY_BYTES, before it is read;
- cross-origin writes (api/http/cross_origin.py): 403 for a write from a browser page on an
  origin not in CORS_ORIGINS, before it runs;
- methods (api/http/methods.py): HEAD answered as GET without the body, OPTIONS with `Allow`,
  redirects with a relative Location;
- `X-Content-Type-Options: nosniff` on every answer: a browser takes each as the type it
  declares (JSON, problem+json), never guesses HTML from a body that holds user text;
- Server-Timing (api/observability/statements.py): the request's time in the database and
  waiting for a connection, on every answer, unless SERVER_TIMING is off; and, when requests
  are traced, the request id on FastAPI's server span;
- the consistency token (api/http/consistency.py): the one sent handed to the request's
  session, and the one its commits earned sent back;
- draining (api/http/draining.py): `Connection: close` on every answer in the shutdown grace;
- with REQUEST_LOG on (make run), a log line per request: method, route template, status, time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from time import perf_counter

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import body_limit, conditional, consistency, cross_origin, methods, request_id
from api.http.draining import Draining
from api.http.errors import internal_error
from api.observability import statements
from api.observability.metrics import RequestMetrics

log = logging.getLogger("api.request")

CONTENT_LENGTH = b"content-length"
NOSNIFF = (b"x-content-type-options", b"nosniff")
SERVER_TIMING = b"server-timing"
# OpenTelemetry's name for a response header's value: the id is sent back on every answer.
REQUEST_ID_ATTRIBUTE = "http.response.header.x-request-id"
CONNECTION_CLOSE = (b"connection", b"close")


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        metrics: RequestMetrics,
        max_body_bytes: int,
        server_timing: bool = True,
        traced: bool = False,
        consistency_cookie: bool = False,
        draining: Draining | None = None,
        cors_origins: Iterable[str] = (),
        request_log: bool = False,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.server_timing = server_timing
        self.traced = traced
        self.consistency_cookie = consistency_cookie
        self.draining = draining or Draining()
        self.writing_origins = cross_origin.Trusted(cors_origins)
        self.request_log = request_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = length = wanted = preflight = token = cookies = None
        for name, value in scope["headers"]:  # lower-case names (ASGI)
            if name == request_id.HEADER:
                sent_id = value
            elif name == CONTENT_LENGTH:
                length = value
            elif name == conditional.IF_NONE_MATCH:
                wanted = value
            elif name == methods.PREFLIGHT:
                preflight = value
            elif name == consistency.HEADER:
                token = value
            elif name == consistency.COOKIE_HEADER:
                cookies = value
        method = scope["method"]
        head = method == "HEAD"
        app_scope = {**scope, "method": "GET"} if head else scope  # the server's own scope stays HEAD
        slot = app_scope[consistency.SCOPE_KEY] = consistency.Consistency(token, cookies)
        cookie = self.consistency_cookie
        draining = self.draining
        rid = request_id.accepted_or_new(sent_id)
        request_id.request_id.set(rid)
        id_header = (request_id.HEADER, rid.encode())
        if self.traced:
            trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, (rid,))
        cost = statements.measure_request() if self.server_timing else None
        if wanted is not None and method not in ("GET", "HEAD"):
            wanted = None
        status = 500  # what is counted if an exception gets out before an answer starts
        started = not_modified = False

        async def send_out(message: Message) -> None:
            nonlocal status, started, not_modified
            if message["type"] == "http.response.start":
                if wanted is not None and (unchanged := conditional.not_modified(message, wanted)) is not None:
                    message, not_modified = unchanged, True
                status, started = message["status"], True
                headers = message.get("headers", ())
                if status in methods.REDIRECTS:
                    headers = methods.relative_location(list(headers))
                message["headers"] = (
                    [*headers, id_header, NOSNIFF]
                    if cost is None
                    else [*headers, id_header, NOSNIFF, (SERVER_TIMING, cost.server_timing())]
                )
                if slot.committed is not None and status < 400:
                    message["headers"] += slot.headers(cookie=cookie)
                if draining.active:
                    message["headers"].append(CONNECTION_CLOSE)
            elif (not_modified or head) and message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        start = perf_counter()
        try:
            if body_limit.declared_too_large(length, self.max_body_bytes):
                await body_limit.refusal(self.max_body_bytes)(scope, receive, send_out)
                return
            if cross_origin.refused(method, scope["headers"], self.writing_origins):
                await cross_origin.refusal()(scope, receive, send_out)
                return
            if method == "OPTIONS" and preflight is None and (allowed := methods.options(scope["app"], scope["path"])):
                await allowed(scope, receive, send_out)
                return
            if length is None:  # a declared length is the server's to hold the client to
                receive = body_limit.counting(receive, self.max_body_bytes)
            await self.app(app_scope, receive, send_out)
        except Exception:
            log.exception("unhandled error in %s %s", method, self.metrics.template(app_scope))  # never the path sent
            if started:
                raise  # too late for a clean answer: let the server drop the connection
            await internal_error(rid)(scope, receive, send_out)
        finally:
            if head:
                app_scope["method"] = "HEAD"  # counted as what the client asked for
            elapsed = perf_counter() - start
            self.metrics.observe(app_scope, status, elapsed)
            if self.request_log:  # the route's template: never the path or query sent
                template = self.metrics.template(app_scope)
                log.info("%s %s %d %.1f ms", app_scope["method"], template, status, elapsed * 1000)
