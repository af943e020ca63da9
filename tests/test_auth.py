"""Signing in and out: opaque tokens kept only as hashes, revocable, expiring; the login
throttle; argon2id parameters and rehashing."""

import asyncio
import hashlib
import platform

import httpx
import psutil
import pytest
from asgi_lifespan import LifespanManager
from pydantic import BaseModel

from api.main import create_app
from api.security.passwords import Passwords
from tests.accounts import new_account, sign_in
from tests.conftest import test_queries
from tests.problems import assert_problem, error_locations
from tests.test_users import PASSWORD_HASH


class TokenHash(BaseModel):
    token_hash: bytes


TOKEN_HASHES = test_queries.many("tokens/hashes_of_user", TokenHash)
EXPIRE_ALL_TOKENS = test_queries.nothing("tokens/expire_all")
END_THROTTLE_WINDOWS = test_queries.nothing("login_attempts/end_windows")


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


@pytest.mark.parametrize(("login", "password"), [("ann", "wrong password!"), ("nobody", "ann has a long passphrase")])
async def test_wrong_credentials_are_refused_alike(client, ann, login, password):
    response = await sign_in(client, login, password)

    body = assert_problem(response, 401)
    assert body["detail"] == "Wrong username, email or password."
    assert response.headers["www-authenticate"] == "Bearer"


async def test_sign_in_takes_a_form_not_json(client, ann):
    response = await client.post("/auth/token", json={"username": "ann", "password": ann.password})

    assert_problem(response, 422)


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


async def test_the_eleventh_failed_sign_in_within_a_minute_is_throttled(client, db, ann):
    for _ in range(10):
        assert (await sign_in(client, "ann", "a wrong password")).status_code == 401

    throttled = await sign_in(client, "ann", "a wrong password")
    even_right = await sign_in(client, "ann", ann.password)

    assert_problem(throttled, 429)
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert_problem(even_right, 429)
    await db.run(END_THROTTLE_WINDOWS)  # a minute later
    assert (await sign_in(client, "ann", ann.password)).status_code == 200


async def test_a_burst_of_concurrent_guesses_cannot_outrun_the_throttle(client, ann):
    guesses = await asyncio.gather(*(sign_in(client, "ann", f"guess {n}!!!") for n in range(16)))

    assert sorted(r.status_code for r in guesses) == [401] * 10 + [429] * 6


async def test_a_successful_sign_in_ends_the_throttle_window(client, ann):
    for _ in range(9):
        await sign_in(client, "ann", "a wrong password")
    assert (await sign_in(client, "ann", ann.password)).status_code == 200

    for _ in range(10):
        assert (await sign_in(client, "ann", "a wrong password")).status_code == 401


async def test_the_throttle_counts_per_account(client, ann, bob):
    for _ in range(11):
        await sign_in(client, "ann", "a wrong password")

    assert (await sign_in(client, "bob", bob.password)).status_code == 200


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
        original = getattr(Passwords, name)

        async def counted(self, *args, _original=original, _name=name):
            calls.append(_name)
            return await _original(self, *args)

        monkeypatch.setattr(Passwords, name, counted)
    return calls


async def test_a_huge_password_is_refused_without_hashing_it(client, ann, hashing_calls):
    huge = "p" * 100_000

    signing_in = await sign_in(client, "ann", huge)
    signing_up = await client.post("/users/", json={"email": "c@example.com", "username": "cid", "password": huge})

    assert error_locations(signing_in) == [["body", "password"]]
    assert error_locations(signing_up) == [["body", "password"]]
    assert hashing_calls == []


async def test_new_accounts_each_get_their_own_token(client):
    first, second = await new_account(client, "first"), await new_account(client, "second")

    assert first.token != second.token
    assert (await me(client, second.token)).json()["username"] == "second"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the memory kept after hashing is glibc's behaviour")
async def test_memory_used_by_concurrent_password_checks_is_given_back(settings):
    passwords = Passwords(settings)
    stored = await passwords.hash("correct horse battery staple")
    before = psutil.Process().memory_info().rss

    for _ in range(3):  # enough rounds for every worker thread to hash at least once
        await asyncio.gather(*(passwords.verify(stored, "correct horse battery staple") for _ in range(8)))

    # Without the fixed threshold each worker thread's heap keeps a 19 MiB block for good.
    grown = psutil.Process().memory_info().rss - before
    assert grown < settings.argon2_memory_kib * 1024, f"{grown / 2**20:.0f} MiB kept after hashing"
