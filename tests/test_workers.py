"""Stateless workers: two processes on one database behave as one service. What a request
needs from an earlier one (the login throttle, an idempotency key) lives in PostgreSQL."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx

from tests.processes import DEADLINE, started, until_answered

APP = ("uvicorn", "--factory", "--no-proxy-headers", "api.main:create_app")  # as api.tools.serve runs it


@contextmanager
def workers(count: int, **settings: str) -> Iterator[list[tuple]]:
    """`count` processes of the service, each on a port of its own, as behind a load balancer."""
    with ExitStack() as stack:
        yield [stack.enter_context(started(*APP, **settings)) for _ in range(count)]


def from_address(address: str) -> httpx.AsyncClient:
    """A client whose connections leave from `address` (a loopback host: a distinct client)."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=DEADLINE)


async def test_the_login_throttle_and_an_idempotent_retry_hold_across_two_workers(cluster_url):
    # A delay that outlasts the test: the 429s are held up to a second (THROTTLE_HOLD_SECONDS),
    # and the first delay, a second by default, ran out while the next guess was held.
    slow = {"THROTTLE_FIRST_DELAY_SECONDS": "60"}
    with workers(2, DATABASE_URL=cluster_url, **slow) as [(one, one_url), (two, two_url)]:
        async with (
            httpx.AsyncClient(timeout=DEADLINE) as client,
            from_address("127.0.0.2") as stranger,
            from_address("127.0.0.3") as owner,
        ):
            for process, url in ((one, one_url), (two, two_url)):
                assert (await until_answered(client, f"{url}/health/ready", process)).status_code == 200
            ann = {"email": "ann@example.com", "username": "ann", "password": "a long passphrase"}
            bob = {"email": "bob@example.com", "username": "bob", "password": "a long passphrase"}
            for account in (ann, bob):
                assert (await client.post(f"{one_url}/users/", json=account)).status_code == 201

            # Wrong guesses from one address, alternating workers, spoofing X-Forwarded-For
            # (no proxy is trusted); past the free ones, that address waits on either worker.
            wrong = {"username": "ann", "password": "not the passphrase"}
            guesses = [
                (
                    await stranger.post(f"{url}/auth/token", data=wrong, headers={"X-Forwarded-For": f"10.0.0.{n}"})
                ).status_code
                for n, url in enumerate([one_url, two_url] * 3)
            ]
            after = await stranger.post(f"{one_url}/auth/token", data=ann)
            # ... while the owner, from another address, signs in on either.
            owners = [(await owner.post(f"{url}/auth/token", data=ann)).status_code for url in (one_url, two_url)]

            # A keyed POST answered by one worker is replayed by the other.
            token = (await client.post(f"{two_url}/auth/token", data=bob)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}
            first = await client.post(f"{one_url}/items/", json={"name": "Lamp", "price": 1}, headers=headers)
            retry = await client.post(f"{two_url}/items/", json={"name": "Lamp", "price": 1}, headers=headers)
            listed = await client.get(f"{two_url}/items/")

    assert guesses == [400] * 5 + [429]  # THROTTLE_FREE_FAILURES, 5 by default
    assert after.status_code == 429 and int(after.headers["retry-after"]) >= 1
    assert owners == [200, 200]
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content and retry.headers["idempotent-replayed"] == "true"
    assert len(listed.json()["data"]) == 1
