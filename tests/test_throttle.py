"""The password-check throttle: counted per client address, per account and across accounts,
with a delay that doubles; a stranger's failures never hold up the owner elsewhere; an
unknown account is throttled exactly like a known one; `current_password` goes through it.
A check with no room to hash is refused before any statement and counts nothing; a client
back before its wait is over is answered only after a pause, a bounded number at once."""

import asyncio
import time
from contextlib import asynccontextmanager
from ipaddress import ip_network

import pytest
from asgi_lifespan import LifespanManager

from api.http.client_address import client_address
from api.main import create_app
from tests.accounts import client_at, sign_in
from tests.conftest import test_queries
from tests.problems import assert_problem
from tests.processes import DEADLINE
from tests.test_auth import hashing_calls, no_room_to_hash  # noqa: F401  (hashing_calls: the fixture)

END_DELAYS = test_queries.nothing("throttle/end_delays")
AGE_ALL = test_queries.nothing("throttle/age_all")

STRANGER, OWNER = "127.0.0.2", "127.0.0.3"
# A first delay long enough that none runs out during a test on a busy machine: a test that
# means time to pass ends the delays itself (END_DELAYS). Refusals are answered at once here:
# the pause before them has tests of their own (held_app), and would add up over the others.
SLOW = {"throttle_first_delay_seconds": 60, "throttle_max_delay_seconds": 3600, "throttle_hold_seconds": 0}


@pytest.fixture(scope="module")
async def app(settings, statements):
    """The suite's app, with delays that outlast any test."""
    app = create_app(settings.model_copy(update=SLOW), observer=statements)
    async with LifespanManager(app):
        yield app


@pytest.fixture
def limits(app):
    return app.state.settings


@pytest.fixture
async def stranger(app, client):
    async with client_at(app, STRANGER) as stranger:
        yield stranger


@pytest.fixture
async def owner(app, client):
    async with client_at(app, OWNER) as owner:
        yield owner


async def fail(client, login, times):
    """`times` wrong guesses at `login`; their statuses."""
    return [(await sign_in(client, login, f"wrong guess {n}")).status_code for n in range(times)]


async def test_past_the_free_failures_an_address_waits_even_with_the_right_password(stranger, limits, ann):
    free = limits.throttle_free_failures

    assert await fail(stranger, "ann", free) == [400] * free
    throttled = await sign_in(stranger, "ann", ann.password)

    assert_problem(throttled, 429)
    assert int(throttled.headers["retry-after"]) == limits.throttle_first_delay_seconds
    assert throttled.headers["cache-control"] == "no-store"  # every answer of the token endpoint


async def test_a_stranger_failing_thirty_times_does_not_stop_the_owner_elsewhere(stranger, owner, ann):
    statuses = await fail(stranger, "ann", 30)

    assert 429 in statuses
    assert (await sign_in(owner, "ann", ann.password)).status_code == 200
    assert (await sign_in(owner, "ann@example.com", ann.password)).status_code == 200


async def test_each_failure_past_the_free_ones_doubles_the_delay(stranger, db, limits, ann):
    await fail(stranger, "ann", limits.throttle_free_failures)
    delays = []
    for _ in range(4):
        await db.run(END_DELAYS)  # as if the client waited it out
        assert (await sign_in(stranger, "ann", "another wrong guess")).status_code == 400
        delays.append(int((await sign_in(stranger, "ann", "and another")).headers["retry-after"]))

    first = limits.throttle_first_delay_seconds
    assert delays == [first * 2, first * 4, first * 8, first * 16]


async def test_the_delay_stops_growing_at_its_cap(limits, db, client, ann):
    capped = create_app(limits.model_copy(update={"throttle_max_delay_seconds": 150}))
    async with LifespanManager(capped), client_at(capped, STRANGER) as stranger:
        await fail(stranger, "ann", limits.throttle_free_failures)
        for _ in range(4):
            await db.run(END_DELAYS)
            await sign_in(stranger, "ann", "a wrong guess")
        throttled = await sign_in(stranger, "ann", "a wrong guess")

    assert int(throttled.headers["retry-after"]) == 150  # not 60 × 16


async def test_failures_across_accounts_from_one_address_are_throttled_too(stranger, owner, limits, ann):
    spread = [(await sign_in(stranger, f"user{n}", "a wrong guess")).status_code for n in range(40)]

    assert spread[: limits.throttle_address_free_failures] == [400] * limits.throttle_address_free_failures
    assert set(spread[limits.throttle_address_free_failures :]) == {429}
    assert_problem(await sign_in(stranger, "ann", ann.password), 429)
    assert (await sign_in(owner, "ann", ann.password)).status_code == 200


@pytest.mark.parametrize("login", ["ann", "nobody"])
async def test_an_unknown_account_is_answered_and_throttled_like_a_wrong_password(app, client, ann, login):
    answers = []
    async with client_at(app, STRANGER) as stranger:
        for n in range(8):
            response = await sign_in(stranger, login, f"wrong guess {n}")
            answers.append((response.status_code, response.headers.get("retry-after"), response.json()))
    other = "nobody" if login == "ann" else "ann"
    async with client_at(app, OWNER) as owner:
        expected = []
        for n in range(8):
            response = await sign_in(owner, other, f"wrong guess {n}")
            expected.append((response.status_code, response.headers.get("retry-after"), response.json()))

    def without_waits(answers):  # the seconds left depend on when each was asked
        return [(status, wait is not None, body) for status, wait, body in answers]

    assert without_waits(answers) == without_waits(expected)
    assert [status for status, _, _ in answers].count(429) == 3
    assert all(1 <= int(wait) <= 60 for _, wait, _ in answers + expected if wait is not None)


async def test_wrong_password_and_unknown_account_send_the_same_headers(client, ann):
    wrong, unknown = await sign_in(client, "ann", "wrong password!"), await sign_in(client, "nobody", "x" * 12)

    def comparable(response):
        return {k: v for k, v in response.headers.items() if k not in {"x-request-id", "date", "server-timing"}}

    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert comparable(wrong) == comparable(unknown)


async def test_a_burst_of_concurrent_guesses_cannot_outrun_the_throttle(stranger, limits, ann):
    burst = limits.hashing_concurrency + limits.hashing_queue  # as many as have room: none is a 503
    guesses = await asyncio.gather(*(sign_in(stranger, "ann", f"guess {n}!!!") for n in range(burst)))

    free = limits.throttle_free_failures
    assert sorted(r.status_code for r in guesses) == [400] * free + [429] * (burst - free)


async def test_a_successful_sign_in_forgives_that_address_its_failures(stranger, limits, ann):
    free = limits.throttle_free_failures
    await fail(stranger, "ann", free - 1)
    assert (await sign_in(stranger, "ann", ann.password)).status_code == 200

    assert await fail(stranger, "ann", free) == [400] * free


async def test_a_quiet_spell_forgets_the_failures(stranger, db, limits, ann):
    await fail(stranger, "ann", limits.throttle_free_failures + 1)
    await db.run(AGE_ALL)

    assert (await sign_in(stranger, "ann", ann.password)).status_code == 200


async def test_the_current_password_check_goes_through_the_throttle(app, client, limits, ann):
    def change(current):
        return {"email": "ann2@example.com", "current_password": current}

    async with client_at(app, STRANGER) as thief:  # holds ann's token, not her password
        guesses = [
            (await thief.patch("/users/me", json=change(f"guess {n}!"), headers=ann.headers)).status_code
            for n in range(limits.throttle_free_failures + 1)
        ]
        even_right = await thief.patch("/users/me", json=change(ann.password), headers=ann.headers)
    async with client_at(app, OWNER) as owner:
        from_home = await owner.patch("/users/me", json=change(ann.password), headers=ann.headers)

    assert guesses == [403] * limits.throttle_free_failures + [429]
    assert_problem(even_right, 429)
    assert "retry-after" in even_right.headers
    assert from_home.status_code == 200


async def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(stranger, owner, limits, ann):
    for n in range(limits.throttle_free_failures + 1):
        await sign_in_from(stranger, "ann", f"wrong guess {n}", forwarded_for=f"10.0.0.{n}")

    assert_problem(await sign_in_from(stranger, "ann", ann.password, forwarded_for="10.9.9.9"), 429)


async def sign_in_from(client, login, password, *, forwarded_for):
    return await client.post(
        "/auth/token", data={"username": login, "password": password}, headers={"X-Forwarded-For": forwarded_for}
    )


async def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(limits, client, ann):
    proxied = create_app(limits.model_copy(update={"trusted_proxies": client_networks("127.0.0.9")}))
    async with LifespanManager(proxied), client_at(proxied, "127.0.0.9") as proxy:
        for n in range(limits.throttle_free_failures + 1):
            # A client may write anything at the left; the proxy appends the peer it saw.
            await sign_in_from(proxy, "ann", f"wrong guess {n}", forwarded_for=f"10.0.0.{n}, 192.0.2.7")
        stranger = await sign_in_from(proxy, "ann", ann.password, forwarded_for="192.0.2.7")
        owner = await sign_in_from(proxy, "ann", ann.password, forwarded_for="192.0.2.8")

    assert_problem(stranger, 429)
    assert owner.status_code == 200


def client_networks(*addresses):
    return [ip_network(address) for address in addresses]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.0.2", [], "127.0.0.2/32"),
        ("10.0.0.1", ["1.2.3.4"], "1.2.3.4/32"),  # a trusted proxy: its hop is believed
        ("10.0.0.1", ["6.6.6.6, 1.2.3.4"], "1.2.3.4/32"),  # the client's own left part is not
        ("10.0.0.1", ["1.2.3.4, 10.0.0.2"], "1.2.3.4/32"),  # through two trusted proxies
        ("10.0.0.1", ["1.2.3.4", "10.0.0.2"], "1.2.3.4/32"),  # the header sent twice
        ("10.0.0.1", ["1.2.3.4, garbage"], "10.0.0.1/32"),  # trust stops at what it cannot read
        ("10.0.0.1", [], "10.0.0.1/32"),
        ("192.0.2.1", ["1.2.3.4"], "192.0.2.1/32"),  # an untrusted peer's header is ignored
        ("2001:db8::1", [], "2001:db8::/64"),  # IPv6 counts by its /64
        ("::ffff:192.0.2.1", [], "192.0.2.1/32"),
        ("10.0.0.1", ["[2001:db8::7]"], "2001:db8::/64"),
        (None, [], "0.0.0.0/32"),
    ],
)
def test_the_client_address_is_the_right_most_untrusted_hop(peer, forwarded, client):
    assert str(client_address(peer, forwarded, [ip_network("10.0.0.0/8")])) == client


async def test_an_unknown_account_costs_one_check_and_a_throttled_one_none(stranger, limits, ann, hashing_calls):  # noqa: F811
    await sign_in(stranger, "nobody", "a wrong guess")
    await sign_in(stranger, "ann", "a wrong guess")
    assert hashing_calls == ["verify_nobody", "verify", "verify"]  # the same argon2id work either way

    hashing_calls.clear()
    await fail(stranger, "ann", limits.throttle_free_failures)
    assert len(hashing_calls) == limits.throttle_free_failures - 1  # one failed before; the last one was refused

    hashing_calls.clear()
    assert (await sign_in(stranger, "nobody", "a wrong guess")).json()["error"] == "invalid_grant"
    assert_problem(await sign_in(stranger, "ann", ann.password), 429)
    assert hashing_calls == ["verify_nobody", "verify"]  # the refused one hashed nothing


async def test_a_sign_in_with_no_room_to_hash_is_a_503_before_any_statement_and_counts_nothing(
    app, stranger, statements, limits, ann
):
    free = limits.throttle_free_failures
    async with no_room_to_hash(app), statements.recording() as sent:
        refused = [await sign_in(stranger, "ann", f"wrong guess {n}") for n in range(free + 1)]

    for response in refused:
        assert assert_problem(response, 503)["detail"] == "Too many password checks at once; retry shortly."
        assert response.headers["retry-after"] == str(limits.retry_after)
    assert sent == []
    assert await fail(stranger, "ann", free) == [400] * free  # every failure still free


async def test_a_current_password_check_with_no_room_to_hash_reads_no_hash_and_counts_nothing(
    app, stranger, statements, limits, ann
):
    change = {"email": "ann2@example.com", "current_password": "a wrong guess"}
    async with no_room_to_hash(app), statements.recording() as sent:
        refused = await stranger.patch("/users/me", json=change, headers=ann.headers)

    assert_problem(refused, 503)
    assert "users/get_password_hash" not in sent
    assert not [name for name in sent if name.startswith("throttle/")]
    assert await fail(stranger, "ann", limits.throttle_free_failures) == [400] * limits.throttle_free_failures


HOLD = 0.2  # seconds: short, the test waits it out


@asynccontextmanager
async def held_app(settings, **holding):
    """An app of its own, with SLOW delays and the pause before a refusal as given."""
    held = create_app(settings.model_copy(update={**SLOW, **holding}))
    async with LifespanManager(held), client_at(held, STRANGER) as stranger:
        yield held, stranger


async def timed(request):
    started_at = time.monotonic()
    response = await request
    return response, time.monotonic() - started_at


async def test_a_client_back_before_its_wait_is_over_is_answered_no_sooner_than_the_hold(settings, limits, ann):
    async with held_app(settings, throttle_hold_seconds=HOLD) as (held, stranger):
        free = limits.throttle_free_failures
        assert await fail(stranger, "ann", free) == [400] * free  # the last one starts a delay
        early = [await timed(sign_in(stranger, "ann", ann.password)) for _ in range(2)]  # and again, told to wait
        after = held.state.holding.held

    for response, elapsed in early:
        assert_problem(response, 429)
        assert elapsed >= HOLD
        # What is left of the first delay (60 s) after the pause.
        assert 1 <= int(response.headers["retry-after"]) <= limits.throttle_first_delay_seconds
    assert after == 0


async def until_held(holding, count):
    deadline = time.monotonic() + DEADLINE
    while holding.held < count:
        assert time.monotonic() < deadline, f"{holding.held} answers held, not {count}"
        await asyncio.sleep(0.01)


async def test_past_the_held_answers_bound_a_refusal_is_sent_at_once_and_a_client_gone_leaves_its_place(
    settings, limits, ann
):
    # Held far longer than the test lasts: the held requests end only when cancelled.
    async with held_app(settings, throttle_hold_seconds=10, throttle_max_held=2) as (held, stranger):
        holding = held.state.holding
        await fail(stranger, "ann", limits.throttle_free_failures)  # the last one starts a delay
        early = [asyncio.create_task(sign_in(stranger, "ann", f"early guess {n}")) for n in range(2)]
        await until_held(holding, 2)
        places_while_held = held.state.passwords.places_taken

        past_the_bound = await sign_in(stranger, "ann", ann.password)
        still_held = [task.done() for task in early]

        for task in early:  # as when each client hangs up: the request is cancelled mid-hold
            task.cancel()
        await asyncio.gather(*early, return_exceptions=True)
        after = holding.held

    assert_problem(past_the_bound, 429)
    assert still_held == [False, False]  # answered while both others were held
    assert places_while_held == 0  # a held answer keeps no place among the password checks
    assert after == 0


async def test_a_503_for_want_of_room_is_held_too_never_past_half_the_connections(settings, ann):
    # Held answers count against uvicorn's MAX_CONNECTIONS: however many may be held, half of
    # them at most are, and past that the refusal goes at once.
    many_held = {"throttle_hold_seconds": 10, "throttle_max_held": 500, "max_connections": 4}
    async with held_app(settings, **many_held) as (held, stranger), no_room_to_hash(held):
        holding = held.state.holding
        waiting = [asyncio.create_task(sign_in(stranger, "ann", f"a wrong guess {n}")) for n in range(2)]
        await until_held(holding, 2)
        past_the_bound = await sign_in(stranger, "ann", ann.password)
        still_held = [task.done() for task in waiting]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        after = holding.held

    assert holding.most == 2
    assert_problem(past_the_bound, 503)
    assert still_held == [False, False]
    assert after == 0
