"""Signed-in users for tests: sign up through the API, sign in, keep the token."""

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_in(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": login, "password": password})


async def new_account(client: httpx.AsyncClient, username: str) -> Account:
    email, password = f"{username}@example.com", f"{username} has a long passphrase"
    signed_up = await client.post("/users/", json={"email": email, "username": username, "password": password})
    assert signed_up.status_code == 201, signed_up.text
    signed_in = await sign_in(client, username, password)
    assert signed_in.status_code == 200, signed_in.text
    return Account(signed_up.json()["id"], username, email, password, signed_in.json()["access_token"])


def client_at(app, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (127.0.0.2, 127.0.0.3 …: loopback hosts as
    distinct clients), through the same app; open it with `async with`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")
