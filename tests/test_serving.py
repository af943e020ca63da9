"""The service as it runs in production, a process of its own: SIGTERM drains what is in
flight and exits cleanly, and a database that never comes makes it stop by itself."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import httpx
import pytest

from api.db import APPLICATION_NAME
from tests.queries import test_queries
from tests.test_reliability import LOCK_ITEM

CONNECTIONS_OF = test_queries.value("activity/connections_of", int)
DEADLINE = 30.0  # seconds any step here may take on a busy machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def started(module: str, *arguments: str, **settings: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`python -m module` on a free port, its output collected; killed if a test leaves it running."""
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "INFO", **settings}
    command = [sys.executable, "-m", module, *arguments]
    if module == "uvicorn":
        command += ["--port", str(port)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        try:
            yield process, f"http://127.0.0.1:{port}"
        finally:
            if process.poll() is None:
                process.kill()


async def until_answered(client: httpx.AsyncClient, url: str, process: subprocess.Popen) -> httpx.Response:
    """The first answer from url once the process listens (it takes a moment to start)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            return await client.get(url)
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    pytest.fail("the service did not come up")


async def test_sigterm_drains_in_flight_requests_closes_the_pool_and_exits_0(cluster_url):
    settings = {"DATABASE_URL": cluster_url, "LOCK_TIMEOUT": "20", "SHUTDOWN_TIMEOUT": "10"}
    with started("api.tools.serve", **settings) as (server, base):
        async with httpx.AsyncClient(base_url=base, timeout=DEADLINE) as client:
            assert (await until_answered(client, f"{base}/health/ready", server)).status_code == 200
            account = {"email": "ann@example.com", "username": "ann", "password": "a long passphrase"}
            await client.post("/users/", json=account)
            token = (await client.post("/auth/token", data=account)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            item = (await client.post("/items/", json={"name": "Lamp", "price": 1}, headers=headers)).json()

            holder = await asyncpg.connect(cluster_url)
            blocker = holder.transaction()
            await blocker.start()
            await holder.fetchval(LOCK_ITEM.query.text, item["id"])  # the PATCH will wait for this
            in_flight = asyncio.create_task(client.patch(f"/items/{item['id']}", json={"price": 2}, headers=headers))
            await asyncio.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            still_draining = server.poll() is None
            await blocker.commit()
            await holder.close()
            finished = await in_flight
        exit_code = await asyncio.to_thread(server.wait, DEADLINE)
        output = server.stdout.read().decode()

    assert still_draining
    assert finished.status_code == 200 and finished.json()["price"] == 2
    assert exit_code == 0, output
    assert "Application shutdown complete" in output
    connection = await asyncpg.connect(cluster_url)
    try:
        assert await connection.fetchval(CONNECTIONS_OF.query.text, APPLICATION_NAME) == 0
    finally:
        await connection.close()


async def test_a_database_that_never_comes_makes_the_service_stop_by_itself():
    nowhere = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    settings = {"DATABASE_URL": nowhere, "CONNECT_ATTEMPTS": "3", "CONNECT_TIMEOUT": "1"}
    with started("uvicorn", "--factory", "api.main:create_app", **settings) as (server, base):
        async with httpx.AsyncClient() as client:
            live = await until_answered(client, f"{base}/health/live", server)
            ready = await client.get(f"{base}/health/ready")
        exit_code = await asyncio.to_thread(server.wait, DEADLINE)
        output = server.stdout.read().decode()

    assert live.status_code == 200 and ready.status_code == 503
    assert "database not reachable (attempt 1 of 3)" in output
    assert "giving up on the database after 3 attempts" in output
    assert exit_code is not None
