"""Observability: log lines are JSON with the request id; /metrics counts by route template."""

import dataclasses
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from types import SimpleNamespace

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families

from api.http.edge import EdgeMiddleware
from api.http.request_id import RequestIdFilter
from api.main import create_app
from api.observability import metrics
from api.observability.logs import JsonFormatter, logging_config
from api.resources.items import routes as items
from api.resources.users import routes as users_routes
from tests.problems import assert_problem
from tests.queries import test_queries

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    """Every sample /metrics exposes, by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: Samples, label: str) -> set[str]:
    return {found for _, labels in samples for name, found in labels if name == label}


@pytest.fixture
def unhandled_error_on_item_reads(monkeypatch):
    """Reading an item raises an error no handler knows: a 500, logged with its traceback."""

    def explode(row):
        raise RuntimeError("the converter broke")

    monkeypatch.setattr(items, "GET_BY_ID", dataclasses.replace(items.GET_BY_ID, convert=explode))


# Logs


@pytest.mark.usefixtures("unhandled_error_on_item_reads")
async def test_an_error_log_line_is_one_json_object_with_the_request_id_and_the_traceback(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())

    with caplog.at_level(logging.ERROR, logger="api"):
        assert_problem(await client.get("/items/1", headers={"X-Request-ID": "trace-me"}), 500)

    [record] = [r for r in caplog.records if r.exc_info]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    fields = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", fields["timestamp"])
    assert (fields["level"], fields["logger"], fields["request_id"]) == ("ERROR", "api.request", "trace-me")
    assert fields["message"] == "unhandled error in GET /items/{item_id}"  # the route, never the path sent
    assert fields["exception"].startswith("Traceback") and "RuntimeError: the converter broke" in fields["exception"]


def test_a_log_line_without_an_exception_has_no_exception_field():
    record = logging.LogRecord("api.x", logging.INFO, __file__, 1, "%d items", (3,), None)

    fields = json.loads(JsonFormatter().format(record))

    del fields["timestamp"]
    assert fields == {"level": "INFO", "logger": "api.x", "message": "3 items", "request_id": "-"}


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="yaml"):
        logging_config("INFO", "yaml")


UVICORN = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--access-log"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_uvicorn_writes_only_json_lines_and_its_access_lines_carry_the_request_id(database_url, tmp_path):
    """The real thing: uvicorn in its own process, configured by logging_config, access log on."""
    config = tmp_path / "logging.json"
    config.write_text(json.dumps(logging_config("INFO")))
    port = free_port()
    server = subprocess.Popen(
        [*UVICORN, "--port", str(port), "--log-config", str(config)],
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/health/live")
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline, "uvicorn did not start"
                    time.sleep(0.1)
            response = client.get("/items/7", headers={"X-Request-ID": "trace-me"})
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)

    assert response.status_code == 404
    lines = [json.loads(line) for line in (out + err).splitlines()]  # each line parses, or this fails
    assert all({"timestamp", "level", "logger", "message", "request_id"} <= line.keys() for line in lines)
    [access] = [line for line in lines if line["logger"] == "uvicorn.access" and "/items/7" in line["message"]]
    assert access["request_id"] == "trace-me"
    assert any(line["message"] == "Application startup complete." for line in lines)


async def test_with_request_log_on_each_request_is_a_line_naming_its_route_never_its_path(settings, caplog):
    app = create_app(settings.model_copy(update={"request_log": True}))
    transport = httpx.ASGITransport(app=app)
    async with LifespanManager(app), httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with caplog.at_level(logging.INFO, logger="api.request"):
            await client.get("/items/7")
            await client.get("/nowhere/a-secret-word", params={"q": "another-secret"})

    lines = [record.getMessage() for record in caplog.records if record.name == "api.request"]
    assert len(lines) == 2, lines
    assert re.fullmatch(r"GET /items/\{item_id\} 404 \d+\.\d ms", lines[0]), lines
    assert "secret" not in " ".join(lines)


async def test_without_request_log_requests_write_no_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="api.request"):
        await client.get("/items/7")

    assert [record for record in caplog.records if record.name == "api.request"] == []


# Metrics


async def test_requests_are_counted_under_their_route_template_never_their_path(client):
    before = await scrape(client)

    for item_id in (11, 12):
        assert_problem(await client.get(f"/items/{item_id}"), 404)

    after = await scrape(client)
    labels = {"route": "/items/{item_id}", "method": "GET", "status": "404"}
    assert value(after, "http_requests_total", **labels) - value(before, "http_requests_total", **labels) == 2
    assert not {"/items/11", "/items/12"} & label_values(after, "route")


async def test_unmatched_paths_and_made_up_methods_share_one_label_each(client):
    before = await scrape(client)

    for path in ("/nowhere/a", "/nowhere/b"):
        assert_problem(await client.get(path), 404)
    assert_problem(await client.request("BREW", "/items/"), 405)

    after = await scrape(client)
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    brew = {"route": "/items/", "method": "other", "status": "405"}
    assert value(after, "http_requests_total", **unmatched) - value(before, "http_requests_total", **unmatched) == 2
    assert value(after, "http_requests_total", **brew) - value(before, "http_requests_total", **brew) == 1
    assert not any("nowhere" in route for route in label_values(after, "route"))
    assert "BREW" not in label_values(after, "method")


async def test_latency_is_a_histogram_by_route_and_method(client):
    before = await scrape(client)

    for _ in range(2):
        assert (await client.get("/items/")).status_code == 200

    after = await scrape(client)
    labels = {"route": "/items/", "method": "GET"}

    def grew(name: str, **more: str) -> float:
        return value(after, name, **labels, **more) - value(before, name, **labels, **more)

    assert grew("http_request_duration_seconds_count") == 2
    assert grew("http_request_duration_seconds_bucket", le="+Inf") == 2
    assert 0 < grew("http_request_duration_seconds_sum") < 10
    buckets = sorted(
        (float(dict(bucket)["le"]), count)
        for (name, bucket), count in after.items()
        if name == "http_request_duration_seconds_bucket" and labels.items() <= dict(bucket).items()
    )
    assert len(buckets) > 5
    assert [count for _, count in buckets] == sorted(count for _, count in buckets)  # cumulative


async def test_pool_gauges_are_read_from_the_pool_when_scraped(client, app, settings):
    idle = await scrape(client)
    async with app.state.database.pool.acquire():
        holding = await scrape(client)

    size, in_use = value(idle, "db_pool_connections"), value(idle, "db_pool_connections_in_use")
    assert value(idle, "db_pool_connections_max") == settings.pool_max_size
    assert 1 <= size <= settings.pool_max_size
    assert 0 <= in_use <= size
    assert value(holding, "db_pool_connections_in_use") == in_use + 1


def test_a_pool_not_open_yet_shows_no_connections():
    """While the database cannot be reached the service runs on, without a pool."""
    app = SimpleNamespace(state=SimpleNamespace(database=SimpleNamespace(pool=None)))

    gauges = {metric.name: metric.samples[0].value for metric in metrics.PoolCollector(app).collect()}

    assert gauges == {"db_pool_connections": 0, "db_pool_connections_in_use": 0}


async def test_a_unique_violation_is_counted_as_a_database_error(client, ann, monkeypatch):
    # Sign-up reads whether the email is taken before hashing; without that read, the INSERT's
    # unique constraint decides, as it does when two sign-ups race.
    monkeypatch.setattr(users_routes, "TAKEN", test_queries.value("users/nothing_taken", str))
    labels = {"kind": "unique_violation", "error": "UniqueViolationError"}
    before = await scrape(client)

    taken = {"email": ann.email, "username": "someone_else", "password": ann.password}
    assert_problem(await client.post("/users/", json=taken), 409)

    after = await scrape(client)
    assert value(after, "db_errors_total", **labels) - value(before, "db_errors_total", **labels) == 1


async def test_an_unavailable_database_is_counted_as_a_database_error(settings):
    """One connection, taken: the request waits POOL_ACQUIRE_TIMEOUT for it, then is a 503."""
    app = create_app(settings.model_copy(update={"pool_min_size": 1, "pool_max_size": 1, "pool_acquire_timeout": 0.2}))
    labels = {"kind": "unavailable", "error": "TimeoutError"}
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        before = await scrape(client)
        async with app.state.database.pool.acquire():
            assert_problem(await client.get("/items/1"), 503)
        after = await scrape(client)

    assert value(after, "db_errors_total", **labels) - value(before, "db_errors_total", **labels) == 1


async def test_metrics_is_prometheus_text_and_not_in_the_openapi_document(client):
    response = await client.get("/metrics")
    document = (await client.get("/openapi.json")).json()

    assert response.status_code == 200
    assert re.fullmatch(r"text/plain; version=[\d.]+; charset=utf-8", response.headers["content-type"])
    assert "# TYPE http_requests_total counter" in response.text
    assert "/metrics" not in document["paths"]


async def test_metrics_does_not_count_itself(client):
    await scrape(client)
    samples = await scrape(client)

    assert "/metrics" not in label_values(samples, "route")


async def test_a_route_included_under_a_prefix_is_labelled_with_its_full_template():
    """FastAPI 0.165 leaves an include_router prefix out of scope["route"]; the label has it."""
    router = APIRouter(prefix="/things")

    @router.get("/{thing_id}")
    async def read_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    app = FastAPI()
    app.include_router(router, prefix="/v2")
    app.add_middleware(EdgeMiddleware, metrics=metrics.install(app), max_body_bytes=1000)
    labels = {"route": "/v2/things/{thing_id}", "method": "GET", "status": "200"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        before = await scrape(client)
        assert (await client.get("/v2/things/1")).status_code == 200
        after = await scrape(client)

    assert value(after, "http_requests_total", **labels) - value(before, "http_requests_total", **labels) == 1


@pytest.mark.usefixtures("unhandled_error_on_item_reads")
async def test_an_unhandled_error_is_counted_as_a_500_under_its_route(client):
    labels = {"route": "/items/{item_id}", "method": "GET", "status": "500"}
    before = await scrape(client)

    assert_problem(await client.get("/items/1"), 500)

    after = await scrape(client)
    assert value(after, "http_requests_total", **labels) - value(before, "http_requests_total", **labels) == 1
