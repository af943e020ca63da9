"""Signed-in users for tests: signed up and in through the API, or written by the service's
own statements for tests about something else."""

from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI

from api.data.db import Session
from api.resources.auth.routes import CREATE_TOKEN
from api.resources.users.routes import CREATE
from api.security.tokens import new_token, token_hash


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


# Each password's argon2id hash, made once per run: the same password gets a new salt in
# production, but a test's accounts need no more than a hash their password verifies against.
_hashes: dict[str, str] = {}


async def stored_account(app: FastAPI, username: str) -> Account:
    """The account `new_account` makes, written by the statements sign-up and sign-in run
    (sql/users/create.sql, sql/auth/create_token.sql), its password hashed by the app's own
    Passwords once per run: two argon2id computations (85 ms) fewer per test. For tests of
    anything but signing up and in, which make their accounts through the API."""
    email, password = f"{username}@example.com", f"{username} has a long passphrase"
    if password not in _hashes:
        async with app.state.passwords.admitted() as hashing:
            _hashes[password] = await hashing.hash(password)
    db = Session(app.state.database)
    created = await db.run(CREATE, email, username, _hashes[password])
    assert created is not None
    token = new_token()
    ttl = timedelta(seconds=app.state.settings.token_ttl_seconds)
    await db.run(CREATE_TOKEN, token_hash(token), created.id, ttl)
    return Account(created.id, username, email, password, token)


def client_at(app, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (127.0.0.2, 127.0.0.3 …: loopback hosts as
    distinct clients), through the same app; open it with `async with`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")
