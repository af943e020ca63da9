"""Where a request's time went: traces (a span per statement), Server-Timing, and the
statements' histogram on /metrics."""

from __future__ import annotations

import asyncio
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import Histogram

from api import fastpath
from api.data.registry import queries
from api.fastpath.versions import untested
from api.main import create_app
from api.observability import metrics, tracing
from api.resources.users import routes as users_routes
from tests.conftest import StatementLog, test_queries
from tests.test_observability import label_values, scrape, value

ROOT = Path(__file__).parent.parent
SERVER_TIMING = re.compile(r"^db;dur=(?P<db>\d+\.\d\d), pool;dur=(?P<pool>\d+\.\d\d)$")


class Traced:
    """An app whose traces go to the SDK's in-memory exporter, beside the statements it sent."""

    def __init__(self, app: FastAPI, exporter: InMemorySpanExporter, sent: StatementLog) -> None:
        self.app, self.exporter, self.sent = app, exporter, sent

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())


@pytest.fixture
async def traced(settings, client) -> AsyncIterator[Traced]:  # client: tables emptied first
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sent = StatementLog()
    app = create_app(settings, observer=sent, tracer_provider=provider)
    async with LifespanManager(app):
        yield Traced(app, exporter, sent)
    provider.shutdown()


@pytest.fixture
async def traced_client(traced) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=traced.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def server_span(spans: list[ReadableSpan]) -> ReadableSpan:
    [server] = [span for span in spans if span.kind is SpanKind.SERVER]
    return server


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    found = [span for span in spans if span.parent is not None and span.parent.span_id == parent.context.span_id]
    return sorted(found, key=lambda span: span.start_time or 0)


# Traces


async def test_a_request_is_a_server_span_and_each_statement_a_child_named_by_its_file(traced, traced_client):
    created = await traced_client.post(
        "/users/", json={"email": "ann@example.com", "username": "ann", "password": "ann has a long passphrase"}
    )
    assert created.status_code == 201, created.text
    traced.exporter.clear()
    async with traced.sent.recording() as sent:
        response = await traced_client.get(f"/users/{created.json()['id']}", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 200

    spans = traced.spans()
    server = server_span(spans)
    assert server.name == "GET /users/{user_id}"
    assert server.attributes["http.route"] == "/users/{user_id}"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["http.response.header.x-request-id"] == ("trace-me",)
    statements = children(spans, server)
    assert [span.name for span in statements] == sent and sent  # in the order sent, named by file
    for span in statements:
        assert span.kind is SpanKind.CLIENT
        assert span.context.trace_id == server.context.trace_id
        assert span.attributes["db.system"] == "postgresql"
        assert span.attributes["db.client.connection.wait_time"] >= 0
        assert span.status.status_code is StatusCode.UNSET
    assert statements[-1].attributes["db.response.returned_rows"] == 1


async def test_a_list_span_counts_the_rows_it_returned(traced, traced_client, ann):
    for n in range(3):
        posted = await traced_client.post("/posts/", json={"title": f"t{n}", "content": "c"}, headers=ann.headers)
        assert posted.status_code == 201, posted.text
    traced.exporter.clear()
    assert (await traced_client.get("/posts/?limit=2")).status_code == 200

    [listed] = [span for span in traced.spans() if span.name == "posts/list"]
    assert listed.attributes["db.response.returned_rows"] == 3  # a page of 2 reads one more, to know of a next


async def test_statements_in_a_transaction_are_spans_of_the_request_too(traced, traced_client, ann):
    async with traced.sent.recording() as sent:
        posted = await traced_client.post(
            "/posts/", json={"title": "t", "content": "c", "tags": ["a"]}, headers=ann.headers
        )
    assert posted.status_code == 201, posted.text

    spans = traced.spans()
    assert [span.name for span in children(spans, server_span(spans))] == sent
    assert "posts/set_tags" in sent  # written with the post, in its transaction


async def test_a_span_keeps_the_names_of_the_query_parameters_not_their_values(traced, traced_client):
    assert (await traced_client.get("/posts/?q=my+secret+plans&limit=5")).status_code == 200

    server = server_span(traced.spans())
    assert server.attributes["url.query"] == "q=REDACTED&limit=REDACTED"
    recorded = repr([dict(span.attributes) for span in traced.spans()])
    assert "secret" not in recorded and "plans" not in recorded


async def test_an_incoming_traceparent_continues_the_callers_trace(traced, traced_client):
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    response = await traced_client.get("/users/1", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    assert response.status_code == 404

    spans = traced.spans()
    server = server_span(spans)
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None and format(server.parent.span_id, "016x") == parent_id
    assert {span.context.trace_id for span in spans} == {server.context.trace_id}
    assert children(spans, server)


async def test_a_failed_statement_marks_its_span_with_the_sqlstate_and_never_the_values(
    traced, traced_client, ann, monkeypatch
):
    # Sign-up reads whether the email is taken before hashing; without that read, the INSERT fails.
    monkeypatch.setattr(users_routes, "TAKEN", test_queries.value("users/nothing_taken", str))
    traced.exporter.clear()
    taken = await traced_client.post(
        "/users/", json={"email": ann.email, "username": "other", "password": "another long passphrase"}
    )
    assert taken.status_code == 409

    [failed] = [span for span in traced.spans() if span.status.status_code is StatusCode.ERROR]
    assert failed.name == "users/create"
    assert failed.attributes["error.type"] == failed.attributes["db.response.status_code"] == "23505"
    assert failed.status.description is None
    recorded = repr([(span.name, dict(span.attributes), span.events) for span in traced.spans()])
    assert ann.email not in recorded and "another long passphrase" not in recorded
    assert server_span(traced.spans()).status.status_code is StatusCode.UNSET  # a 409 is the client's


async def test_the_accelerator_steps_aside_while_requests_are_traced(traced, traced_client):
    assert (await traced_client.get("/health/live")).status_code == 200
    assert not fastpath.accelerated(traced.app)


@pytest.mark.skipif(bool(untested()), reason="the accelerator is off on these releases anyway")
async def test_the_accelerator_serves_when_nothing_is_traced(app, client):
    assert (await client.get("/health/live")).status_code == 200
    assert fastpath.accelerated(app) == (app.state.settings.fast_path != "off")


def test_traces_are_off_unless_opentelemetry_is_configured(monkeypatch):
    for name in (*tracing.ENDPOINTS, "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.telemetry()["tracing"] is False
    assert tracing.statement_tracer() is None

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.telemetry()["tracing"] is True and tracing.telemetry()["auto_configure"] is True
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert tracing.telemetry()["tracing"] is False


# A process of its own: FastAPI sets the SDK's provider as OpenTelemetry's global one, which
# can be set once per process, and would then trace every later test's app.
OTLP_SCRIPT = """
import asyncio, httpx
from asgi_lifespan import LifespanManager
from api.main import create_app

async def main():
    app = create_app()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get("/health/ready", headers={"traceparent": "00-%s-00f067aa0ba902b7-01"})
            assert answer.status_code == 200, answer.text

asyncio.run(main())
"""
OTLP_TIMEOUT = 60.0


class _Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver on loopback: keeps each export's path and body."""

    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:  # not on the test's output
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", _Collector.received
    finally:
        server.shutdown()
        server.server_close()


async def test_the_standard_otel_variables_send_the_traces_over_otlp(settings, collector):
    endpoint, received = collector
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("OTEL_")},
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "BEHIND_PGBOUNCER": str(settings.behind_pgbouncer).lower(),
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_SERVICE_NAME": "api-under-test",
    }
    ran = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", OTLP_SCRIPT % trace_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=OTLP_TIMEOUT,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr

    assert {path for path, _ in received} == {"/v1/traces"}  # traces only: metrics and logs are the service's
    spans = {}
    for _, body in received:
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            assert resource["service.name"] == "api-under-test"
            for scope_spans in resource_spans.scope_spans:
                spans.update({span.name: span for span in scope_spans.spans})
    assert {"GET /health/ready", "health/ping"} <= spans.keys()
    server, ping = spans["GET /health/ready"], spans["health/ping"]
    assert server.trace_id.hex() == ping.trace_id.hex() == trace_id
    assert ping.parent_span_id == server.span_id


async def test_the_untraced_app_gives_its_statements_no_tracer(app):
    assert app.state.database.tracer is None


# Server-Timing


async def test_every_answer_says_its_time_in_the_database_and_waiting_for_a_connection(client, ann):
    read = await client.get(f"/users/{ann.id}")
    timing = SERVER_TIMING.match(read.headers["server-timing"])
    assert timing, read.headers["server-timing"]
    assert float(timing["db"]) > 0

    for response in (
        await client.get("/nowhere"),  # no route, no statement
        await client.get("/health/live"),
        await client.get(f"/users/{ann.id}", headers={"If-None-Match": read.headers["etag"]}),  # 304
        await client.post("/items/", content=b"{", headers={**ann.headers, "Content-Type": "application/json"}),
    ):
        assert SERVER_TIMING.match(response.headers["server-timing"]), (response.status_code, response.headers)
    assert SERVER_TIMING.match((await client.get("/nowhere")).headers["server-timing"])["db"] == "0.00"


async def test_server_timing_is_exposed_to_pages_on_allowed_origins(settings):
    app = create_app(settings.model_copy(update={"cors_origins": ["https://app.example.com"]}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/health/live", headers={"Origin": "https://app.example.com"})
    assert "server-timing" in response.headers["access-control-expose-headers"].lower()


async def test_the_document_declares_server_timing_on_every_answer(client):
    document = (await client.get("/openapi.json")).json()
    answers = [
        (path, status, response)
        for path, operations in document["paths"].items()
        for operation in operations.values()
        for status, response in operation["responses"].items()
    ]
    assert answers
    for path, status, response in answers:
        declared = response.get("headers", {}).get("Server-Timing", {}).get("$ref", "")
        assert declared == "#/components/headers/Server-Timing", (path, status)
    pattern = re.compile(document["components"]["headers"]["Server-Timing"]["schema"]["pattern"])
    assert pattern.match((await client.get("/health/live")).headers["server-timing"])


async def test_server_timing_off_sends_no_such_header_nor_declares_one(settings):
    app = create_app(settings.model_copy(update={"server_timing": False}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/health/ready")  # a statement, and no header for it
            document = (await client.get("/openapi.json")).text
    assert response.status_code == 200
    assert "server-timing" not in response.headers
    assert "Server-Timing" not in document


# The statements' histogram


async def test_metrics_has_each_query_files_statement_time(client, ann):
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get(f"/users/{ann.id}")).status_code == 200
    after = await scrape(client)

    count = "db_statement_duration_seconds_count"
    assert value(after, count, query="users/get_by_id") - value(before, count, query="users/get_by_id") == 3
    assert value(after, "db_statement_duration_seconds_sum", query="users/get_by_id") > 0
    buckets = sorted(
        (float(dict(labels)["le"]), found)
        for (name, labels), found in after.items()
        if name == "db_statement_duration_seconds_bucket" and ("query", "users/get_by_id") in labels
    )
    assert len(buckets) == len(metrics.STATEMENT_BUCKETS) + 1
    assert [found for _, found in buckets] == sorted(found for _, found in buckets)  # cumulative
    assert buckets[-1] == (float("inf"), value(after, count, query="users/get_by_id"))


async def test_statement_labels_are_only_the_names_of_the_service_s_query_files(client, ann):
    await client.get(f"/users/{ann.id}")
    await client.get("/posts/?q=coffee")
    labels = label_values(
        {key: sample for key, sample in (await scrape(client)).items() if key[0].startswith("db_statement_duration")},
        "query",
    )
    assert {"users/get_by_id", "posts/search"} <= labels
    assert labels <= set(queries)
    assert "truncate_all" not in labels  # the tests' own statement, run before each test


def test_several_workers_sum_the_statements_histogram_through_prometheus_client_files(monkeypatch, tmp_path):
    """Plain counts live in one process; with PROMETHEUS_MULTIPROC_DIR the library's Histogram,
    whose values go to the files a scrape sums, takes the observations instead."""
    assert isinstance(metrics.STATEMENT_TIMES.series("users/get_by_id"), metrics._StatementSeries)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert isinstance(metrics.STATEMENT_TIMES.series("users/get_by_id"), Histogram)
