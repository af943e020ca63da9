"""What each statement costs, told three ways: a span, a histogram, a request's totals.

api/data/db.py measures every statement it sends with a `Sent`: the wait for a connection,
then the round trip to PostgreSQL. Each measure goes to

- the request's `Cost`, summed for its `Server-Timing` header (api/http/edge.py sets one per
  request, when SERVER_TIMING is on): `db` the statements' time, `pool` the waits;
- the histogram `db_statement_duration_seconds{query="posts/list"}` on /metrics, labelled only
  by the names of the service's own query files, so the series are bounded by sql/;
- a span named by the query file, child of the request's server span, when the request is
  traced (OpenTelemetry configured: api/observability/tracing.py). A failed statement's span
  carries its SQLSTATE or exception class, never its message, which may quote the values.

Untraced, a statement costs three clock reads, a histogram observation and a context lookup.
"""

from __future__ import annotations

from contextvars import ContextVar
from time import perf_counter
from typing import Any

from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer

from api.data.registry import Query, Returns, queries
from api.observability.metrics import STATEMENT_TIMES, Observer

DB_SYSTEM = "postgresql"
# Span attributes: OpenTelemetry's names where it has one (semantic conventions for databases).
SYSTEM_ATTRIBUTES = {"db.system": DB_SYSTEM, "db.system.name": DB_SYSTEM}
WAIT = "db.client.connection.wait_time"  # seconds waited for a pooled connection
RETURNED_ROWS = "db.response.returned_rows"
AFFECTED_ROWS = "db.response.affected_rows"  # a statement returning nothing: its command tag's count
STATUS_CODE = "db.response.status_code"  # the SQLSTATE of a failed statement
ERROR_TYPE = "error.type"


class Cost:
    """One request's time in the database and waiting for a connection, in seconds."""

    __slots__ = ("db", "pool")

    def __init__(self) -> None:
        self.db = 0.0
        self.pool = 0.0

    def server_timing(self) -> bytes:
        """The `Server-Timing` header's value: milliseconds, as browsers' devtools show them."""
        return b"db;dur=%.2f, pool;dur=%.2f" % (self.db * 1000, self.pool * 1000)  # bytes: no encode


_cost: ContextVar[Cost | None] = ContextVar("request_cost", default=None)


def measure_request() -> Cost:
    """A fresh cost for the request now starting; its statements add to it."""
    cost = Cost()
    _cost.set(cost)
    return cost


def waited(seconds: float) -> None:
    """A wait for a connection outside any one statement (a transaction's)."""
    cost = _cost.get()
    if cost is not None:
        cost.pool += seconds


# The histogram's children, made on a query's first statement; only the service's own files
# (sql/) get one, so no other name (a test's statement, a tool's) becomes a label value.
_series: dict[str, Observer | None] = {}


def _histogram(name: str) -> Observer | None:
    try:
        return _series[name]
    except KeyError:
        series = _series[name] = STATEMENT_TIMES.series(name) if name in queries else None
        return series


def _rows(returns: Returns, raw: Any) -> tuple[str, int]:
    if returns is Returns.MANY:
        return RETURNED_ROWS, len(raw)
    if returns is Returns.NOTHING:  # the command tag, its count last (UPDATE 3, INSERT 0 1)
        count = str(raw).rpartition(" ")[2]
        return AFFECTED_ROWS, int(count) if count.isdigit() else 0
    return RETURNED_ROWS, 0 if raw is None else 1


def error_kind(error: BaseException) -> str:
    """A failure's kind for a span: its SQLSTATE when PostgreSQL sent one, else its class."""
    return getattr(error, "sqlstate", None) or type(error).__name__


class Sent:
    """One statement, measured from the moment a connection is asked for (or, in a
    transaction, from its sending) until its answer: `connected`, then `answered` or `failed`
    (db.py may report one failure twice, from the statement and from the borrowing around it:
    the first counts), then `end`."""

    __slots__ = ("_connected_at", "_cost", "_over", "_query", "_span", "_started")

    def __init__(self, query: Query, tracer: Tracer | None, in_transaction: bool = False) -> None:
        self._query = query
        self._cost = _cost.get()
        self._span: Span | None = None
        self._over = False
        if tracer is not None:
            # A child of the current span: the request's, when FastAPI traces it (an untraced or
            # unsampled request's span is not recording, and neither is this one).
            span = tracer.start_span(query.name, kind=SpanKind.CLIENT, attributes=SYSTEM_ATTRIBUTES)
            if span.is_recording():
                self._span = span
        self._started = perf_counter()
        self._connected_at: float | None = self._started if in_transaction else None

    def connected(self) -> None:
        self._connected_at = now = perf_counter()
        wait = now - self._started
        if self._cost is not None:
            self._cost.pool += wait
        if self._span is not None:
            self._span.set_attribute(WAIT, wait)

    def _spent(self) -> None:
        self._over = True
        if self._connected_at is None:  # it never reached the database (no connection came)
            return
        elapsed = perf_counter() - self._connected_at
        if self._cost is not None:
            self._cost.db += elapsed
        series = _histogram(self._query.name)
        if series is not None:
            series.observe(elapsed)

    def answered(self, raw: Any) -> None:
        self._spent()
        if self._span is not None:
            self._span.set_attribute(*_rows(self._query.returns, raw))

    def failed(self, error: BaseException) -> None:
        if self._over:
            return
        self._spent()
        if self._span is not None:
            kind = error_kind(error)
            self._span.set_attribute(ERROR_TYPE, kind)
            if getattr(error, "sqlstate", None):
                self._span.set_attribute(STATUS_CODE, kind)
            self._span.set_status(StatusCode.ERROR)  # no description: a message may quote the values

    def end(self) -> None:
        if self._span is not None:
            self._span.end()
