"""Prometheus metrics at /metrics: requests and their latency by route template, statements'
time by query file, the pool, database errors.

Labels are bounded: a route is its template (`/items/{item_id}`), never the raw path, and a
path no route matched is `unmatched`; a method outside the standard ones is `other`; a
statement is its query file's name (`posts/list`), and only the files under sql/ are labels
(api/observability/statements.py observes them).

A request pays for as little as possible: api/http/edge.py times it, the route is the one the
router left in the scope (nothing is matched again), and each route's label children are
made on its first request and only looked up after. The pool is read when Prometheus scrapes, not per request.
/metrics does not count itself.

Workers: each process counts its own. Under one uvicorn worker, /metrics is exact. With
several workers behind one port a scrape reaches one of them at random, so run them with
PROMETHEUS_MULTIPROC_DIR set to an empty directory (prometheus-client's multiprocess mode):
requests, latency and database errors are then summed over every worker from their files,
while the pool gauges stay those of the worker that answered (each has its own pool).
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterator
from typing import Protocol

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

PATH = "/metrics"
UNMATCHED = "unmatched"  # no route matched: a 404, or a redirect to the path with(out) its trailing slash
OTHER = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})

# From a cached read (~1 ms) up to COMMAND_TIMEOUT (10 s); the defaults start at 5 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# A statement: from an index lookup (a tenth of a millisecond) up to STATEMENT_TIMEOUT (5 s).
STATEMENT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

disable_created_metrics()  # a `_created` series beside each counter and histogram: twice the series, for nothing

# Made once per process, registered in each app's registry (tests build several apps).
REQUESTS = Counter(
    "http_requests",
    "Requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from the request reaching the app to the app returning, by route template and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
STATEMENT_DURATION_NAME = "db_statement_duration_seconds"
STATEMENT_DURATION_HELP = (
    "Time from sending a statement to its answer (the wait for a connection aside), by query file."
)
# Under PROMETHEUS_MULTIPROC_DIR only (see StatementTimes).
STATEMENT_DURATION = Histogram(
    STATEMENT_DURATION_NAME, STATEMENT_DURATION_HELP, ["query"], buckets=STATEMENT_BUCKETS, registry=None
)
DATABASE_ERRORS = Counter(
    "db_errors",
    "Database errors answered, by kind (unavailable: 503, refused_value: 422, unique_violation and "
    "foreign_key_violation: 409) and exception class.",
    ["kind", "error"],
    registry=None,
)


def count_database_error(kind: str, error: BaseException) -> None:
    """Called where api/http/errors.py maps a database error to its status."""
    DATABASE_ERRORS.labels(kind, type(error).__name__).inc()


class _MethodSeries:
    """One route and method's latency child, and its request counter per status, made once."""

    __slots__ = ("_by_status", "_method", "_route", "latency")

    def __init__(self, route: str, method: str) -> None:
        self._route, self._method = route, method
        self.latency = LATENCY.labels(route, method)
        self._by_status: dict[int, Counter] = {}

    def requests(self, status: int) -> Counter:
        counter = self._by_status.get(status)
        if counter is None:
            counter = self._by_status[status] = REQUESTS.labels(self._route, self._method, str(status))
        return counter


class _RouteSeries:
    """One route's series, by method; a made-up method shares `other` and is not kept."""

    __slots__ = ("_by_method", "counted", "matched", "template")

    def __init__(self, matched: object, template: str, counted: bool) -> None:
        self.matched = matched  # held, so that its id() stays its own
        self.template = template
        self.counted = counted
        self._by_method: dict[str, _MethodSeries] = {}

    def method(self, method: str) -> _MethodSeries:
        series = self._by_method.get(method)
        if series is None:
            if method not in METHODS:
                method = OTHER
            series = self._by_method.get(method) or _MethodSeries(self.template, method)
            self._by_method[method] = series
        return series


def _template(scope: Scope, matched: object) -> str:
    """The route template of what the router matched: an APIRoute (scope["route"]), or the
    endpoint of a plain Route or Mount (scope["endpoint"]; FastAPI sets "route" only for its own).

    FastAPI 0.165 puts the route as declared in scope["route"], without the prefix of an
    `include_router(..., prefix=)`; its route contexts carry the full template, so they are asked,
    once per route."""
    if matched is None:
        return UNMATCHED
    for context in iter_route_contexts(scope["app"].routes):
        route = context.original_route
        if route is matched or getattr(route, "endpoint", None) is matched or getattr(route, "app", None) is matched:
            return context.path_format or UNMATCHED
    return getattr(matched, "path_format", UNMATCHED)


class RequestMetrics:
    """Counts each request and its latency under its route template, method and status
    (api/http/edge.py tells it of every request when the answer is done)."""

    def __init__(self, uncounted: frozenset[str] = frozenset({PATH})) -> None:
        self.uncounted = uncounted
        self._routes: dict[int, _RouteSeries] = {}  # by the id of what the router matched

    def observe(self, scope: Scope, status: int, elapsed: float) -> None:
        route = self._route(scope)
        if route.counted:
            series = route.method(scope["method"])
            series.latency.observe(elapsed)
            series.requests(status).inc()

    def template(self, scope: Scope) -> str:
        """The template of the route the request matched, for a log line that must not quote
        the path it sent."""
        return self._route(scope).template

    def _route(self, scope: Scope) -> _RouteSeries:
        matched = scope.get("route") or scope.get("endpoint")
        route = self._routes.get(id(matched))  # routes are not hashable; they live as long as the app
        if route is None:
            template = _template(scope, matched)
            route = self._routes[id(matched)] = _RouteSeries(matched, template, template not in self.uncounted)
        return route


class Observer(Protocol):
    def observe(self, amount: float) -> None: ...


class _StatementSeries:
    """One query file's histogram: a count per bucket (the last one +Inf) and their sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(STATEMENT_BUCKETS) + 1)
        self.total = 0.0

    def observe(self, amount: float) -> None:
        self.counts[bisect_left(STATEMENT_BUCKETS, amount)] += 1  # the first bound >= amount: `le`
        self.total += amount


class StatementTimes(Collector):
    """db_statement_duration_seconds by query file, in plain counters read when scraped.

    A request sends a statement or several, each observed: prometheus-client's Histogram takes
    a lock for the bucket and another for the sum at each observation (1.5 µs of CPU; make
    bench), where a count in a list costs a tenth of it. Only the event loop writes them.
    Under PROMETHEUS_MULTIPROC_DIR the library's Histogram serves instead: its values go to the
    files that the scrape sums over the workers."""

    def __init__(self) -> None:
        self._series: dict[str, _StatementSeries] = {}

    def series(self, query: str) -> Observer:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return STATEMENT_DURATION.labels(query)
        return self._series.setdefault(query, _StatementSeries())

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(STATEMENT_DURATION_NAME, STATEMENT_DURATION_HELP, labels=["query"])
        bounds = [*(floatToGoString(bound) for bound in STATEMENT_BUCKETS), "+Inf"]
        for query, series in sorted(self._series.items()):
            cumulative, buckets = 0, []
            for bound, count in zip(bounds, series.counts, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            family.add_metric([query], buckets, sum_value=series.total)
        yield family


STATEMENT_TIMES = StatementTimes()


class PoolCollector(Collector):
    """The app's connection pool, read at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        database = getattr(self.app.state, "database", None)  # set while the lifespan runs
        if database is None:
            return
        pool = database.pool  # None until the database could be reached: no connection open
        size = pool.get_size() if pool is not None else 0
        in_use = size - pool.get_idle_size() if pool is not None else 0
        yield GaugeMetricFamily("db_pool_connections", "Connections the pool has open.", value=size)
        yield GaugeMetricFamily("db_pool_connections_in_use", "Connections lent to requests.", value=in_use)
        if pool is not None:
            yield GaugeMetricFamily(
                "db_pool_connections_max", "Connections the pool may open.", value=pool.get_max_size()
            )


def _registry(app: FastAPI) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every worker's counters, summed from their files
    else:
        for metric in (REQUESTS, LATENCY, STATEMENT_TIMES, DATABASE_ERRORS):
            registry.register(metric)
        ProcessCollector(registry=registry)  # memory, CPU, open files: leaks show here first
    registry.register(PoolCollector(app))
    return registry


def install(app: FastAPI) -> RequestMetrics:
    """Serve /metrics (outside the OpenAPI document); what counts every other request."""
    registry = _registry(app)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route(PATH, metrics, include_in_schema=False)
    return RequestMetrics()  # /metrics itself uncounted
