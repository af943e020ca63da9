"""`python -m tests.bench.fleet`: the deploy of the README's Scaling section, measured.

1. What the consistency token costs (api/http/consistency.py), where it is paid: in
   `Session`, against a primary and a streaming replica of its own (tests/clusters.py).
   Point reads on the replica without a token and with one it has replayed already (one
   more round trip); writes without a replica configured and with one (the WAL position
   read after the commit); and a read sent right after its write with that write's token
   (the replay it waits for).
2. The fleet: PostgreSQL, PgBouncer in transaction mode, two processes of the service
   (BEHIND_PGBOUNCER) and HAProxy on tests/haproxy.cfg in front, all on this machine; the
   bench's load generator through HAProxy, for point reads and authenticated writes. It
   reports requests/s, the CPU each part spent (in cores: 1.0 is one core busy), and the
   most server connections PostgreSQL had.

Figures only, no assertions (the suite asserts behaviour, never timings).

    python -m tests.bench.fleet [--seconds 5] [--connections 64] [--tries 500]
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
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from api.config import Settings
from api.data.db import Database, Session
from api.data.registry import sent_name
from api.http.consistency import Consistency, token
from api.resources.items.routes import GET_BY_ID
from api.tools import migrate
from tests.balancer import in_front
from tests.bench.machine import DatabaseServer, cpu_seconds
from tests.bench.requests_file import Request, write
from tests.clusters import Cluster, PgBouncer, caught_up
from tests.processes import DEADLINE, started
from tests.queries import test_queries

CREATE_UNOWNED = test_queries.value("items/create_unowned", int)
SESSIONS_ON = test_queries.value("activity/sessions_on", int)
WORKERS = 2
POOL_MAX_SIZE = 8  # per worker, as the README advises
PGBOUNCER_POOL = 8  # server connections: 2 to 4 per core of this 2-core machine
ITEMS = 1000


async def _timed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return (time.perf_counter() - started) * 1e6


def _median(samples: list[float]) -> str:
    return f"{statistics.median(samples):,.0f}"


async def token_cost(base: Path, tries: int) -> list[tuple[str, str]]:
    with Cluster(base) as primary:
        url = primary.create_database("app")
        migrate.apply(url)
        with Cluster.replica_of(primary, base) as replica:
            alone = await Database.open(Settings(database_url=url, _env_file=None))
            settings = Settings(database_url=url, database_read_url=replica.url("app"), _env_file=None)
            watching = False
            primary_reads = 0

            def observe(record: Any) -> None:  # which server answered the reads after a write
                nonlocal primary_reads
                if watching and sent_name(record.query) == "items/get_by_id" and record.conn_addr[1] == primary.port:
                    primary_reads += 1

            paired = await Database.open(settings, observe)
            try:
                item = await Session(alone).run(CREATE_UNOWNED, "lamp")
                await caught_up(primary, replica)
                replayed = token(0).encode()  # a position every replica has passed
                plain, with_token, write_alone, write_token, after_write = [], [], [], [], []
                for n in range(tries):
                    plain.append(await _timed(lambda: Session(paired).run(GET_BY_ID, item)))
                    with_token.append(
                        await _timed(lambda: Session(paired, Consistency(replayed, None)).run(GET_BY_ID, item))
                    )
                    write_alone.append(await _timed(lambda n=n: Session(alone).run(CREATE_UNOWNED, f"a{n}")))
                    slot = Consistency(None, None)
                    session = Session(paired, slot)
                    written: list[int] = []

                    async def create(session: Session = session, n: int = n, written: list[int] = written) -> None:
                        written.append(await session.run(CREATE_UNOWNED, f"t{n}"))

                    write_token.append(await _timed(create))
                    assert slot.committed is not None
                    reader = Session(paired, Consistency(token(slot.committed).encode(), None))
                    watching = True
                    after_write.append(await _timed(lambda reader=reader, id=written[0]: reader.run(GET_BY_ID, id)))
                    await asyncio.sleep(0)  # asyncpg tells its loggers on the next turn of the loop
                    watching = False
            finally:
                await alone.close()
                await paired.close()
    fallbacks = primary_reads
    return [
        ("point read on the replica, no token", _median(plain)),
        ("the same read with a token the replica has replayed", _median(with_token)),
        ("a write, no replica configured (no token)", _median(write_alone)),
        ("a write with a replica (its token read after the commit)", _median(write_token)),
        (
            f"a read sent right after its write, with its token ({fallbacks} of {tries} served by the primary)",
            _median(after_write),
        ),
    ]


class Cpu:
    """CPU seconds of a set of processes between two readings."""

    def __init__(self, processes: dict[str, list[psutil.Process]], database: DatabaseServer) -> None:
        self.processes, self.database = processes, database

    def read(self) -> dict[str, Any]:
        return {
            **{name: sum(cpu_seconds(p) for p in group) for name, group in self.processes.items()},
            "postgres": self.database.cpu_times(),
        }

    def spent(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        spent = {name: after[name] - before[name] for name in self.processes}
        spent["postgres"] = DatabaseServer.spent(before["postgres"], after["postgres"])
        return spent


async def _most_sessions(url: str, stop: asyncio.Event) -> int:
    connection = await asyncpg.connect(url)
    most = 0
    try:
        while not stop.is_set():
            most = max(most, await connection.fetchval(SESSIONS_ON.query.text, "app"))
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    return most


async def fleet(base: Path, seconds: float, connections: int, pgbouncer: bool) -> list[dict[str, str]]:
    rows = []
    with Cluster(base) as cluster, ExitStack() as stack:
        url = cluster.create_database("app")
        migrate.apply(url)
        bouncer = stack.enter_context(PgBouncer(cluster, base, pool_size=PGBOUNCER_POOL)) if pgbouncer else None
        settings = {
            "DATABASE_URL": bouncer.url("app") if bouncer else url,
            "BEHIND_PGBOUNCER": "true" if bouncer else "false",
            "POOL_MAX_SIZE": str(POOL_MAX_SIZE),
            "LOG_LEVEL": "WARNING",
        }
        uvicorn = ("--loop", "uvloop", "--http", "httptools", "--no-access-log", "--factory", "api.main:create_app")
        workers = []
        ports = []
        for _ in range(WORKERS):
            process, address = stack.enter_context(started("uvicorn", *uvicorn, **settings))
            workers.append(process)
            ports.append(int(address.rpartition(":")[2]))
        balancer = await in_front(stack, base, workers, ports)
        async with httpx.AsyncClient(base_url=balancer.url, timeout=DEADLINE) as client:
            account = {"email": "ann@example.com", "username": "ann", "password": "a long passphrase"}
            await client.post("/users/", json=account)
            bearer = (await client.post("/auth/token", data=account)).json()["access_token"]
            signed_in = {"Authorization": f"Bearer {bearer}"}
            for n in range(ITEMS):
                await client.post("/items/", json={"name": f"seed {n}", "price": n}, headers=signed_in)
        database = await DatabaseServer.of(url)
        assert database is not None
        cpu = Cpu(
            {
                "workers": [psutil.Process(process.pid) for process in workers],
                "pgbouncer": [psutil.Process(bouncer.pid)] if bouncer else [],
                "haproxy": [psutil.Process(balancer.process.pid)],
            },
            database,
        )
        workloads = {
            "GET /items/{id}": [Request("GET", f"/items/{1 + n % ITEMS}") for n in range(10_000)],
            "POST /items/ (bearer)": [
                Request("POST", "/items/", bearer, {"name": f"load {n}", "price": n}) for n in range(10_000)
            ],
        }
        for name, requests in workloads.items():
            path = write(base / "requests.tsv", requests)
            stop = asyncio.Event()
            sampler = asyncio.create_task(_most_sessions(url, stop))
            before = cpu.read()
            generator = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.bench.loadgen", "--port", str(balancer.port),
                "--requests", str(path), "--connections", str(connections), "--duration", str(seconds),
                stdout=subprocess.PIPE,
            )  # fmt: skip
            output, _ = await generator.communicate()
            after = cpu.read()
            stop.set()
            most_sessions = await sampler
            result = json.loads(output)
            spent = cpu.spent(before, after)
            elapsed = result["seconds"]
            rps = result["requests"] / elapsed
            answered = max(1, result["requests"])

            def per_request(seconds: float, answered: int = answered) -> str:
                return f"{seconds / answered * 1e6:,.0f}"

            rows.append(
                {
                    "workload": name + (" via PgBouncer" if bouncer else ", direct"),
                    "req/s": f"{rps:,.0f}",
                    "per worker": f"{rps / WORKERS:,.0f}",
                    "errors": str(sum(result["errors"].values())),
                    "p99 ms": f"{result['p99_us'] / 1000:.1f}",
                    "cores used: workers": f"{spent['workers'] / elapsed:.2f}",
                    "CPU µs/request: workers": per_request(spent["workers"]),
                    "PostgreSQL": per_request(spent["postgres"]),
                    "PgBouncer": per_request(spent["pgbouncer"]) if bouncer else "",
                    "HAProxy": per_request(spent["haproxy"]),
                    "server connections (most)": str(most_sessions),
                }
            )
    return rows


def _table(rows: list[dict[str, str]]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row[column] for column in header) + " |" for row in rows]
    return "\n".join(lines)


async def main(seconds: float, connections: int, tries: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fleet-", dir="/tmp") as base:
        costs = await token_cost(Path(base), tries)
        print(_table([{"µs, median of " + str(tries): value, "what": what} for what, value in costs]))
        print()
        print(f"{WORKERS} workers × POOL_MAX_SIZE={POOL_MAX_SIZE} → PgBouncer (default_pool_size={PGBOUNCER_POOL}), "
              f"{connections} client connections through HAProxy, {seconds} s each")  # fmt: skip
        rows = await fleet(Path(base), seconds, connections, pgbouncer=False)
        rows += await fleet(Path(base), seconds, connections, pgbouncer=True)
        print(_table(rows))
    print(f"\nload average after: {' '.join(f'{load:.1f}' for load in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--tries", type=int, default=500)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.connections, arguments.tries))
