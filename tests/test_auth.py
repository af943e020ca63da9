"""Signing in and out: opaque tokens kept only as hashes, revocable, expiring; OAuth2's
error answers; argon2id parameters, rehashing, and hashing as a bounded resource. (The
throttle has tests/test_throttle.py.)"""

import asyncio
import hashlib
import os
import platform
import sys
import threading
import time
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import psutil
import pytest
from asgi_lifespan import LifespanManager
from pydantic import BaseModel

from api.http.errors import ServiceUnavailable
from api.main import create_app
from api.security.passwords import Hashing, Passwords
from tests.accounts import new_account, sign_in
from tests.conftest import test_queries
from tests.problems import assert_problem, error_locations
from tests.test_users import PASSWORD_HASH


class TokenHash(BaseModel):
    token_hash: bytes


TOKEN_HASHES = test_queries.many("tokens/hashes_of_user", TokenHash)
EXPIRE_ALL_TOKENS = test_queries.nothing("tokens/expire_all")


async def me(client, token):
    return await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("login", ["ann", "ANN", "ann@example.com", "Ann@Example.COM"])
async def test_sign_in_by_username_or_email_regardless_of_case(client, ann, login):
    response = await sign_in(client, login, ann.password)

    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 24 * 3600
    assert (await me(client, token["access_token"])).json()["id"] == ann.id


async def test_a_token_is_opaque_random_and_stored_only_as_its_hash(client, db, ann):
    tokens = [ann.token, (await sign_in(client, "ann", ann.password)).json()["access_token"]]

    stored = {row.token_hash for row in await db.run(TOKEN_HASHES, ann.id)}

    assert len(set(tokens)) == 2
    assert all(len(token) >= 43 for token in tokens)  # 32 random bytes, base64url: 256 bits
    assert stored == {hashlib.sha256(token.encode()).digest() for token in tokens}


@pytest.mark.parametrize(
    ("login", "password"),
    [("ann", "wrong password!"), ("nobody", "ann has a long passphrase"), ("ann@example.com ", "whatever it is")],
)
async def test_wrong_credentials_are_refused_alike_as_oauth2_says(client, ann, login, password):
    response = await sign_in(client, login, password)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"error": "invalid_grant", "error_description": "Wrong username, email or password."}


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"username": "ann"}, "invalid_request"),
        ({"password": "ann has a long passphrase"}, "invalid_request"),
        ({"username": "ann", "password": "short"}, "invalid_request"),
        (
            {"username": "ann", "password": "ann has a long passphrase", "grant_type": "client_credentials"},
            "unsupported_grant_type",
        ),
    ],
    ids=["no-password", "no-username", "short-password", "other-grant"],
)
async def test_a_malformed_sign_in_is_an_oauth2_error(client, ann, form, error):
    response = await client.post("/auth/token", data=form)

    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error
    assert response.json()["error_description"]


async def test_sign_in_takes_a_form_not_json(client, ann):
    response = await client.post("/auth/token", json={"username": "ann", "password": ann.password})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_swagger_ui_authorize_form_is_accepted(client, ann):
    form = {"grant_type": "password", "username": "ann", "password": ann.password, "scope": ""}

    assert (await client.post("/auth/token", data=form)).status_code == 200


async def test_logout_revokes_the_token_at_once(client, ann):
    other_session = (await sign_in(client, "ann", ann.password)).json()["access_token"]

    response = await client.post("/auth/logout", headers=ann.headers)

    assert response.status_code == 204
    revoked = await me(client, ann.token)
    assert_problem(revoked, 401)
    assert revoked.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (await me(client, other_session)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer forged-token", "Bearer " + "A" * 43, "Basic YW5uOnB3", "bearer\x7f"],
    ids=["missing", "empty", "forged", "forged-long", "basic", "garbage"],
)
async def test_missing_or_forged_tokens_are_refused_with_www_authenticate(client, ann, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await client.get("/users/me", headers=headers)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_expired_token_is_refused(client, db, ann):
    await db.run(EXPIRE_ALL_TOKENS)

    response = await me(client, ann.token)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_passwords_are_hashed_at_or_above_owasp_minimum(settings):
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) >= (19 * 1024, 2)
    with pytest.raises(ValueError, match="argon2_time_cost"):
        settings.__class__(argon2_time_cost=1, _env_file=None)


async def test_sign_in_rehashes_a_password_when_the_cost_settings_change(client, db, settings, ann):
    stronger = create_app(settings.model_copy(update={"argon2_time_cost": 3}))
    async with (
        LifespanManager(stronger),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=stronger), base_url="http://test") as stronger_client,
    ):
        assert (await sign_in(stronger_client, "ann", ann.password)).status_code == 200

    rehashed = await db.run(PASSWORD_HASH, ann.id)
    assert rehashed.startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    assert (await sign_in(client, "ann", ann.password)).status_code == 200


@pytest.fixture
def hashing_calls(monkeypatch):
    """Counts every argon2 hash or verification the service starts."""
    calls = []
    for name in ("hash", "verify", "verify_nobody"):
        original = getattr(Hashing, name)

        async def counted(self, *args, _original=original, _name=name):
            calls.append(_name)
            return await _original(self, *args)

        monkeypatch.setattr(Hashing, name, counted)
    return calls


@asynccontextmanager
async def no_room_to_hash(app):
    """Every place among the app's password checks taken, until the block ends."""
    settings = app.state.settings
    async with AsyncExitStack() as places:
        for _ in range(settings.hashing_concurrency + settings.hashing_queue):
            await places.enter_async_context(app.state.passwords.admitted())
        yield


async def verified(passwords, stored, password):
    async with passwords.admitted() as hashing:
        return await hashing.verify(stored, password)


async def hashed(passwords, password):
    async with passwords.admitted() as hashing:
        return await hashing.hash(password)


async def test_a_huge_password_is_refused_without_hashing_it(client, ann, hashing_calls):
    huge = "p" * 100_000

    signing_in = await sign_in(client, "ann", huge)
    signing_up = await client.post("/users/", json={"email": "c@example.com", "username": "cid", "password": huge})

    assert signing_in.json()["error"] == "invalid_request"
    assert error_locations(signing_up) == [["body", "password"]]
    assert hashing_calls == []


async def test_new_accounts_each_get_their_own_token(client):
    first, second = await new_account(client, "first"), await new_account(client, "second")

    assert first.token != second.token
    assert (await me(client, second.token)).json()["username"] == "second"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the memory kept after hashing is glibc's behaviour")
async def test_memory_used_by_concurrent_password_checks_is_given_back(settings):
    passwords = Passwords(settings)
    stored = await hashed(passwords, "correct horse battery staple")
    before = psutil.Process().memory_info().rss

    for _ in range(3):  # enough rounds for every worker thread to hash at least once
        await asyncio.gather(*(verified(passwords, stored, "correct horse battery staple") for _ in range(8)))

    # Without the fixed threshold each worker thread's heap keeps a 19 MiB block for good.
    grown = psutil.Process().memory_info().rss - before
    assert grown < settings.argon2_memory_kib * 1024, f"{grown / 2**20:.0f} MiB kept after hashing"


async def test_hashing_beyond_its_bound_is_a_503_at_once(settings, client):
    narrow = create_app(settings.model_copy(update={"hashing_concurrency": 1, "hashing_queue": 1}))
    async with (
        LifespanManager(narrow),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=narrow), base_url="http://test") as narrow_client,
    ):
        signing_up = await asyncio.gather(
            *(
                narrow_client.post(
                    "/users/", json={"email": f"u{n}@example.com", "username": f"user{n}", "password": "a passphrase"}
                )
                for n in range(6)
            )
        )

    statuses = sorted(response.status_code for response in signing_up)
    assert statuses[:2] == [201, 201] and 503 in statuses and set(statuses) <= {201, 503}
    refused = next(response for response in signing_up if response.status_code == 503)
    assert assert_problem(refused, 503)["detail"] == "Too many password checks at once; retry shortly."
    assert refused.headers["retry-after"] == str(settings.retry_after)


async def test_sign_up_with_a_taken_name_hashes_nothing(client, ann, hashing_calls):
    email_taken = await client.post(
        "/users/", json={"email": "ANN@example.com", "username": "cid", "password": "a passphrase"}
    )
    name_taken = await client.post(
        "/users/", json={"email": "c@example.com", "username": "Ann", "password": "a pass!!"}
    )

    assert assert_problem(email_taken, 409)["field"] == "email"
    assert assert_problem(name_taken, 409)["field"] == "username"
    assert hashing_calls == []


async def test_a_retried_sign_up_is_replayed_not_refused_as_taken(client):
    body = {"email": "cid@example.com", "username": "cid", "password": "cid's passphrase"}
    first = await client.post("/users/", json=body, headers={"Idempotency-Key": "k1"})

    retry = await client.post("/users/", json=body, headers={"Idempotency-Key": "k1"})

    assert first.status_code == retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"


async def test_a_check_past_the_running_and_the_waiting_ones_is_refused_at_once(settings):
    passwords = Passwords(settings.model_copy(update={"hashing_concurrency": 1, "hashing_queue": 1}))
    stored = await hashed(passwords, "correct horse battery staple")

    outcomes = await asyncio.gather(
        *(verified(passwords, stored, "correct horse battery staple") for _ in range(3)), return_exceptions=True
    )

    assert outcomes[:2] == [True, True]  # one ran, one waited its turn
    assert isinstance(outcomes[2], ServiceUnavailable)
    assert passwords.places_taken == 0  # each gave its place back


async def test_a_sign_up_with_no_room_to_hash_is_a_503_before_any_statement_after_a_pause(
    app, client, statements, settings
):
    body = {"email": "cid@example.com", "username": "cid", "password": "cid's passphrase"}
    async with no_room_to_hash(app), statements.recording() as sent:
        started_at = time.monotonic()
        refused = await client.post("/users/", json=body)
        elapsed = time.monotonic() - started_at

    assert assert_problem(refused, 503)["detail"] == "Too many password checks at once; retry shortly."
    assert refused.headers["retry-after"] == str(settings.retry_after)
    assert sent == []
    assert elapsed >= settings.throttle_hold_seconds > 0  # held as shipped (api/security/holding.py)
    assert app.state.holding.held == 0
    assert (await client.post("/users/", json=body)).status_code == 201  # room again: nothing was taken


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread CPU priority is Linux's")
async def test_hashing_runs_at_the_lowest_cpu_priority(client):
    await new_account(client, "dee")  # a hash, on the app's hashing threads

    hashing_threads = [thread for thread in threading.enumerate() if thread.name.startswith("argon2id")]

    assert hashing_threads
    assert {os.getpriority(os.PRIO_PROCESS, thread.native_id) for thread in hashing_threads} == {19}
