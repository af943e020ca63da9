"""The service as it runs in production, a process of its own: SIGTERM drains what is in
flight and exits cleanly, and a database that never comes makes it stop by itself."""

import asyncio
import signal

import asyncpg
import httpx

from api.data.db import APPLICATION_NAME
from tests.processes import DEADLINE, free_port, started, until_answered, until_logged
from tests.queries import test_queries
from tests.test_reliability import LOCK_ITEM

CONNECTIONS_OF = test_queries.value("activity/connections_of", int)


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


async def test_sigterm_with_a_grace_first_turns_ready_to_503_on_every_worker_serving_the_rest(cluster_url):
    settings = {"DATABASE_URL": cluster_url, "SHUTDOWN_GRACE_SECONDS": "2"}
    with started("api.tools.serve", "--workers", "2", **settings) as (server, base):
        # One worker answering is not enough: the other may still be starting, its grace not set.
        started_up = await until_logged(server, "Application startup complete", times=2)
        async with httpx.AsyncClient(base_url=base, timeout=DEADLINE) as client:
            assert (await until_answered(client, f"{base}/health/ready", server)).status_code == 200
            server.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)  # both workers have their SIGTERM
            during = []
            for _ in range(4):  # new connections, so that either worker may answer
                async with httpx.AsyncClient(base_url=base, timeout=DEADLINE) as fresh:
                    ready, live = await fresh.get("/health/ready"), await fresh.get("/health/live")
                during.append((ready.status_code, live.status_code, ready.headers.get("connection")))
            still_serving = server.poll() is None
        exit_code = await asyncio.to_thread(server.wait, DEADLINE)
        output = started_up + server.stdout.read().decode()

    assert during == [(503, 200, "close")] * 4
    assert still_serving
    assert exit_code == 0, output
    assert output.count("/health/ready answers 503 for 2.0 s") == 2
