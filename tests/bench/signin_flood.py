"""A flood of sign-ins with bad credentials, and what it does to a point lookup beside it.

    python -m tests.bench.signin_flood [--seconds 5] [--flooders 32]

`make bench` prints it after its rounds. One worker of the service (uvicorn, as `make serve`
runs it) on the development database; a probe reads `GET /users/{id}` one request after
another from 127.0.0.1, first alone, then while `--flooders` connections post wrong
passwords to `/auth/token` as fast as they are answered, from other loopback addresses
(127.0.0.2, 127.0.0.3 …: distinct clients to the throttle). Printed: the probe's p50 and p99
alone and under the flood, their ratio (the target is 1.5 × at most), and how the flood was
answered (400: checked and wrong; 429: throttled before any hashing, held THROTTLE_HOLD_SECONDS
when the client came back while its delay ran; 503: no room among HASHING_CONCURRENCY +
HASHING_QUEUE, refused before any statement, held as the 429 is). Three set-ups:

- as shipped, the flood from 8 addresses: the throttle stops each after its free failures;
- as shipped, the flood from 200 addresses (the throttle barely applies: a botnet), where
  the bound on hashing (HASHING_CONCURRENCY, HASHING_QUEUE) is what protects the probe;
- neither bound (throttle and hashing limits set out of reach), as before them.

Settings in the environment reach the server (`HASHING_CONCURRENCY=2 python -m
tests.bench.signin_flood`), except where a set-up sets its own.

The flood's clients run in a process of their own, on the same 2 cores as the server: the figures
compare set-ups with each other, they are not the service's capacity. Figures only, no
assertions (the suite asserts behaviour, never timings).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass

import httpx

from api.config import Settings
from api.tools import migrate
from api.tools.database import development_database
from tests.processes import DEADLINE, free_port, until_answered

SECONDS, FLOODERS, PROBES_ALONE = 5.0, 32, 300
PASSWORD = "bench has a long passphrase"
APP = ("uvicorn", "--factory", "--no-proxy-headers", "--loop", "uvloop", "--http", "httptools", "api.main:create_app")
OUT_OF_REACH = {
    "THROTTLE_FREE_FAILURES": "1000000",
    "THROTTLE_ADDRESS_FREE_FAILURES": "1000000",
    "HASHING_CONCURRENCY": "64",
    "HASHING_QUEUE": "100000",
}


@dataclass(frozen=True)
class SetUp:
    title: str
    addresses: int
    settings: dict[str, str]


SET_UPS = (
    SetUp("as shipped, flood from 8 addresses", 8, {}),
    SetUp("as shipped, flood from 200 addresses", 200, {}),
    SetUp("no throttle, hashing unbounded", 200, OUT_OF_REACH),
)


def _address(n: int) -> str:
    """The n-th flooding client (from 0): 127.0.0.2 onwards, never 127.0.0.1 (the probe's)."""
    n += 2
    return f"127.0.{n // 254}.{n % 254 or 254}" if n >= 254 else f"127.0.0.{n}"


def _percentile(latencies: list[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _probe(client: httpx.AsyncClient, url: str, until: float | None, count: int = PROBES_ALONE) -> list[float]:
    """Milliseconds per point lookup, one after another: `count` of them, or until `until`."""
    latencies: list[float] = []
    while (until is None and len(latencies) < count) or (until is not None and time.monotonic() < until):
        started_at = time.perf_counter()
        response = await client.get(url)
        latencies.append((time.perf_counter() - started_at) * 1000)
        assert response.status_code == 200, response.text
    return latencies


def _flooding_client(address: str) -> httpx.AsyncClient:
    # Plain HTTP on loopback: no TLS, so no certificate store to load (25 ms of CPU per
    # client, which for 200 clients took most of the flood's seconds).
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=False)
    return httpx.AsyncClient(transport=transport, timeout=DEADLINE)


async def _flooder(client: httpx.AsyncClient, url: str, until: float, answers: Counter[int]) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        form = {"username": f"nobody{n % 50}", "password": f"wrong guess number {n}"}
        try:
            answers[(await client.post(f"{url}/auth/token", data=form)).status_code] += 1
        except httpx.TransportError:
            answers[0] += 1


async def _flood(url: str, addresses: int, seconds: float, flooders: int) -> Counter[int]:
    answers: Counter[int] = Counter()
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(_flooding_client(_address(n % addresses)))
            for n in range(max(flooders, addresses))
        ]
        until = time.monotonic() + seconds  # from when every client is ready
        await asyncio.gather(*(_flooder(client, url, until, answers) for client in clients))
    return answers


def _flooding(url: str, set_up: SetUp, seconds: float, flooders: int) -> subprocess.Popen[bytes]:
    """The flood, in a process of its own: its clients must not share the probe's event loop."""
    command = [sys.executable, "-m", "tests.bench.signin_flood", "--flood", url]
    command += ["--addresses", str(set_up.addresses), "--seconds", str(seconds), "--flooders", str(flooders)]
    return subprocess.Popen(command, stdout=subprocess.PIPE)


async def _measure(url: str, set_up: SetUp, seconds: float, flooders: int) -> tuple[list[float], list[float], Counter]:
    async with httpx.AsyncClient(timeout=DEADLINE) as client:
        made = await client.post(
            f"{url}/users/", json={"email": "flood@example.com", "username": "flood_probe", "password": PASSWORD}
        )
        user_id = made.json()["id"] if made.status_code == 201 else 1
        point = f"{url}/users/{user_id}"
        await _probe(client, point, None, 50)  # warm up
        alone = await _probe(client, point, None)
        flood = _flooding(url, set_up, seconds, flooders)
        await asyncio.sleep(1.0)  # the flood under way
        loaded = await _probe(client, point, time.monotonic() + seconds - 1.5)
        out, _ = flood.communicate(timeout=seconds + DEADLINE)
    return alone, loaded, Counter({int(status): count for status, count in json.loads(out).items()})


@contextmanager
def _server(url: str, settings: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    """One worker, its log in a file (a pipe nobody reads would fill and stall it)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", **settings}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "-m", *APP, "--port", str(port)], env=env, stdout=log, stderr=log)
        try:
            yield process, f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(DEADLINE)


def _run(url: str, set_up: SetUp, seconds: float, flooders: int) -> str:
    with _server(url, set_up.settings) as (process, base):

        async def go() -> tuple[list[float], list[float], Counter]:
            async with httpx.AsyncClient(timeout=DEADLINE) as client:
                await until_answered(client, f"{base}/health/ready", process)
            return await _measure(base, set_up, seconds, flooders)

        alone, loaded, answers = asyncio.run(go())
    p50, p99 = _percentile(alone, 0.5), _percentile(alone, 0.99)
    l50, l99 = _percentile(loaded, 0.5), _percentile(loaded, 0.99)
    total = sum(answers.values())
    shares = ", ".join(f"{status or 'failed'}: {count / total:.0%}" for status, count in sorted(answers.items()))
    return (
        f"| {set_up.title} | {p50:.1f} / {p99:.1f} | {l50:.1f} / {l99:.1f} | {l50 / p50:.1f} × / {l99 / p99:.1f} × "
        f"| {total / seconds:.0f}/s ({shares}) | {statistics.mean(loaded):.1f} |"
    )


def lines(url: str, seconds: float = SECONDS, flooders: int = FLOODERS) -> list[str]:
    """The report's section: one row per set-up."""
    out = [
        f"## A flood of bad sign-ins beside GET /users/{{id}}: {flooders}+ connections for {seconds:.0f} s, 1 worker",
        "",
        "| set-up | alone p50 / p99 ms | flooded p50 / p99 ms | ratio (≤ 1.5 ×) | flood answered | flooded mean ms |",
        "|---|---|---|---|---|---|",
    ]
    # Each set-up starts from no failures: the throttle's counts would carry over otherwise.
    for set_up in SET_UPS:
        _forget_failures(url)
        out.append(_run(url, set_up, seconds, flooders))
    _forget_failures(url)
    return out


def _forget_failures(url: str) -> None:
    from tests.queries import test_queries  # the statement tests and the bench share

    forget = test_queries.nothing("throttle/forget_all")

    async def run() -> None:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            await connection.execute(forget.query.text)
        finally:
            await connection.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--flooders", type=int, default=FLOODERS)
    parser.add_argument("--flood", metavar="URL", help=argparse.SUPPRESS)  # the flood's own process
    parser.add_argument("--addresses", type=int, default=8, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood:
        answers = asyncio.run(_flood(args.flood, args.addresses, args.seconds, args.flooders))
        print(json.dumps(answers))
        return
    with development_database(Settings()) as url:
        migrate.apply(url)
        print("\n".join(lines(url, args.seconds, args.flooders)))


if __name__ == "__main__":
    main()
