"""A deploy behind a real load balancer drops nothing: HAProxy (tests/haproxy.cfg, the file
the README shows) in front of two processes of the service on one database, each restarted
in turn (SIGTERM, a new one started, ready) while clients read and write through it."""

import asyncio
import signal
from collections import Counter
from contextlib import ExitStack

import asyncpg
import httpx
import pytest

from tests.balancer import SERVERS, haproxy_binary, in_front
from tests.processes import DEADLINE, free_port, started
from tests.queries import test_queries
from tests.test_reliability import ItemName

GRACE = "1.5"  # SHUTDOWN_GRACE_SECONDS: above the config's inter x fall (0.5 s), with room
CLIENTS = 6
MAX_WRITES = 2000  # per client: the loop is bounded even if a restart never ends
ITEM_NAMES = test_queries.many("items/names", ItemName)


pytestmark = pytest.mark.skipif(
    haproxy_binary() is None, reason="HAProxy is not installed (Debian: apt-get install haproxy; .ci/run does)"
)


class Load:
    """Clients writing items, each with an Idempotency-Key and no retry of their own, and
    reading each back, until told to stop."""

    def __init__(self) -> None:
        self.acknowledged: list[str] = []
        self.failures: list[tuple[str, str]] = []
        self.reads = 0
        self.stop = asyncio.Event()

    async def client(self, client: httpx.AsyncClient, headers: dict[str, str], n: int) -> None:
        for i in range(MAX_WRITES):
            if self.stop.is_set():
                return
            key = f"client-{n}-{i}"
            try:
                created = await client.post(
                    "/items/", json={"name": key, "price": 1}, headers={**headers, "Idempotency-Key": key}
                )
                if created.status_code != 201:
                    self.failures.append((key, f"{created.status_code} {created.text}"))
                    continue
                self.acknowledged.append(key)
                read = await client.get(created.headers["location"])
                if read.status_code != 200 or read.json()["name"] != key:
                    self.failures.append((key, f"read {read.status_code} {read.text}"))
                self.reads += 1
            except httpx.HTTPError as error:
                self.failures.append((key, repr(error)))


async def test_restarting_each_process_behind_haproxy_drops_no_request(cluster_url, tmp_path):
    ports = [free_port(), free_port()]
    settings = {"DATABASE_URL": cluster_url, "SHUTDOWN_GRACE_SECONDS": GRACE, "POOL_MAX_SIZE": "4"}

    def process(port: int):
        return started("api.tools.serve", **settings, PORT=str(port))

    exit_codes, outputs, out_before_it_stopped = [], [], []
    load = Load()
    with ExitStack() as stack:
        processes = [stack.enter_context(process(port))[0] for port in ports]
        balancer = await in_front(stack, tmp_path, processes, ports)
        async with httpx.AsyncClient(base_url=balancer.url, timeout=DEADLINE) as client:
            account = {"email": "ann@example.com", "username": "ann", "password": "a long passphrase"}
            assert (await client.post("/users/", json=account)).status_code == 201
            token = (await client.post("/auth/token", data=account)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            clients = [asyncio.create_task(load.client(client, headers, n)) for n in range(CLIENTS)]
            await asyncio.sleep(0.5)  # load on both
            for index, name in enumerate(SERVERS):
                old = processes[index]
                old.send_signal(signal.SIGTERM)
                await balancer.until(name, "DOWN")  # unready in its grace: taken out
                out_before_it_stopped.append(old.poll() is None)
                exit_codes.append(await asyncio.to_thread(old.wait, DEADLINE))
                outputs.append(old.stdout.read().decode())
                processes[index] = stack.enter_context(process(ports[index]))[0]
                await balancer.admit(name, processes[index], ports[index])
                await asyncio.sleep(0.3)  # load on both again
            load.stop.set()
            await asyncio.gather(*clients)

    connection = await asyncpg.connect(cluster_url)
    try:
        stored = Counter(row.name for row in ITEM_NAMES.convert(await connection.fetch(ITEM_NAMES.query.text)))
    finally:
        await connection.close()

    assert load.failures == []
    assert exit_codes == [0, 0], outputs
    assert out_before_it_stopped == [True, True]
    assert all("/health/ready answers 503 for 1.5 s" in output for output in outputs), outputs
    assert len(load.acknowledged) > 100 and load.reads == len(load.acknowledged)
    assert stored == Counter(load.acknowledged)  # every acknowledged write, once; nothing else
