"""What telemetry costs a request, in-process: Server-Timing, the statements' histogram, traces.

    python -m tests.bench.telemetry [--requests 400] [--rounds 7]

`make bench` prints it after its rounds. The same app is made in several variants and each
serves `GET /users/{id}` (one statement) through its ASGI callable, on the development
database, the variants taking turns within every round; the figures are medians over the
rounds of the process's CPU time per request (what the worker spends; the database's time is
another process's), and of the wall time. Then the pieces alone, in a loop: a statement's
measure with and without its histogram observation, a request's Server-Timing header.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr

from api.config import Settings
from api.data.registry import queries
from api.main import create_app
from api.observability import statements
from api.tools import migrate
from api.tools.database import development_database

REQUESTS, ROUNDS = 400, 7
PASSWORD = "bench has a long passphrase"


@contextmanager
def _without_histogram() -> Iterator[None]:
    made = statements._histogram
    statements._histogram = lambda name: None  # as before the histogram: no observation
    try:
        yield
    finally:
        statements._histogram = made


@contextmanager
def _as_is() -> Iterator[None]:
    yield


@dataclass
class Variant:
    title: str
    settings: dict[str, Any]
    traced: bool = False
    patch: Callable[[], Any] = _as_is


VARIANTS = [
    Variant("as shipped, untraced: Server-Timing and histogram", {}),
    Variant("SERVER_TIMING=false", {"server_timing": False}),
    Variant("no histogram (patched out)", {}, patch=_without_histogram),
    Variant("neither: the request path before them", {"server_timing": False}, patch=_without_histogram),
    Variant("stock FastAPI (FAST_PATH=off), untraced", {"fast_path": "off"}),
    Variant("traced: every request sampled, spans dropped", {}, traced=True),
]


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }


async def _get(app: Any, path: str) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(path), receive, send)
    return status


async def _user_id(app: Any) -> int:
    """User 1 of a seeded database, or a new one."""
    if await _get(app, "/users/1") == 200:
        return 1
    import httpx  # only here: the measured requests go to the ASGI callable itself

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        made = await client.post(
            "/users/", json={"email": "bench@example.com", "username": "bench_user", "password": PASSWORD}
        )
        if made.status_code == 201:
            return int(made.json()["id"])
    raise RuntimeError(f"no user to read: {made.status_code} {made.text}")


async def _batch(app: Any, path: str, requests: int) -> tuple[float, float]:
    """CPU and wall microseconds per request."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        await _get(app, path)
    return (time.process_time() - cpu) / requests * 1e6, (time.perf_counter() - wall) / requests * 1e6


async def _compare(url: str, requests: int, rounds: int) -> list[tuple[str, float, float]]:
    base = Settings(database_url=SecretStr(url), _env_file=None)
    apps = []
    for variant in VARIANTS:
        provider = TracerProvider() if variant.traced else None  # no processor: spans made, then dropped
        apps.append(create_app(base.model_copy(update=variant.settings), tracer_provider=provider))
    managers = [LifespanManager(app) for app in apps]
    for manager in managers:
        await manager.__aenter__()
    try:
        path = f"/users/{await _user_id(apps[0])}"
        for variant, app in zip(VARIANTS, apps, strict=True):  # warm: routes planned, statements prepared
            with variant.patch():
                await _batch(app, path, 50)
        figures: dict[str, list[tuple[float, float]]] = {variant.title: [] for variant in VARIANTS}
        for _ in range(rounds):
            for variant, app in zip(VARIANTS, apps, strict=True):
                with variant.patch():
                    figures[variant.title].append(await _batch(app, path, requests))
    finally:
        for manager in reversed(managers):
            await manager.__aexit__(None, None, None)
    return [
        (title, statistics.median(cpu for cpu, _ in runs), statistics.median(wall for _, wall in runs))
        for title, runs in figures.items()
    ]


def _pieces() -> list[tuple[str, float]]:
    """Nanoseconds each piece costs alone, best of five loops."""
    query = queries["users/get_by_id"]

    def statement() -> None:
        sent = statements.Sent(query, None)
        sent.connected()
        sent.answered(None)
        sent.end()

    def header() -> None:
        statements.measure_request().server_timing()

    def best(function: Callable[[], None], number: int = 100_000) -> float:
        return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e9

    with_histogram = best(statement)
    with _without_histogram():
        without = best(statement)
    return [
        ("a statement's measure, with its histogram observation", with_histogram),
        ("a statement's measure, without it", without),
        ("a request's Server-Timing (its Cost, and the header written)", best(header)),
    ]


def lines(url: str, requests: int = REQUESTS, rounds: int = ROUNDS) -> list[str]:
    """The report's section: a table of the variants, then the pieces."""
    compared = asyncio.run(_compare(url, requests, rounds))
    shipped_cpu = compared[0][1]
    out = [
        f"## Telemetry's cost, in-process: GET /users/{{id}}, {rounds} rounds of {requests} requests per variant",
        "",
        "| variant | CPU µs/request | vs as shipped | wall µs/request |",
        "|---|---|---|---|",
    ]
    out += [f"| {title} | {cpu:.1f} | {cpu - shipped_cpu:+.1f} | {wall:.1f} |" for title, cpu, wall in compared]
    out += ["", "| piece, alone | ns |", "|---|---|"]
    out += [f"| {title} | {ns:.0f} |" for title, ns in _pieces()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    with development_database(Settings()) as url:
        migrate.apply(url)
        print("\n".join(lines(url, args.requests, args.rounds)))


if __name__ == "__main__":
    main()
