"""Turns at the pool (api/data/pool_turns.py): first come, first served, every wait bounded, no turn lost."""

import asyncio

import pytest

from api.data.pool_turns import Turns


async def _hold(turns: Turns, served: list[int], n: int, release: asyncio.Event) -> None:
    await turns.take()
    served.append(n)
    await release.wait()
    turns.give_back()


async def _all_free(turns: Turns, count: int) -> bool:
    """All `count` turns can be taken at once (none was lost), and are given back."""
    try:
        async with asyncio.timeout(1):
            for _ in range(count):
                await turns.take()
    except TimeoutError:
        return False
    for _ in range(count):
        turns.give_back()
    return True


async def test_waiters_are_served_in_the_order_they_came_even_against_newcomers():
    turns = Turns(2, timeout=5)
    served: list[int] = []
    go = asyncio.Event()
    tasks = [asyncio.create_task(_hold(turns, served, n, go)) for n in range(10)]
    await asyncio.sleep(0)
    assert served == [0, 1]

    go.set()  # each holder gives back; a newcomer arriving meanwhile must queue behind the rest
    late = asyncio.create_task(_hold(turns, served, 99, go))
    await asyncio.gather(*tasks, late)

    assert served == [*range(10), 99]
    assert await _all_free(turns, 2)


async def test_a_wait_past_the_timeout_fails_and_the_line_behind_it_moves_on():
    turns = Turns(1, timeout=0.05)
    await turns.take()
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(TimeoutError):
        await turns.take()

    assert 0.05 <= loop.time() - started < 1
    late = asyncio.create_task(turns.take())  # its own deadline, its own timer
    await asyncio.sleep(0.02)
    turns.give_back()
    await late  # handed the turn, not timed out
    turns.give_back()
    assert await _all_free(turns, 1)


async def test_waiters_time_out_one_after_another_each_on_its_own_deadline():
    turns = Turns(1, timeout=0.1)
    await turns.take()
    loop = asyncio.get_running_loop()
    ended: list[float] = []

    async def wait() -> None:
        with pytest.raises(TimeoutError):
            await turns.take()
        ended.append(loop.time())

    first = asyncio.create_task(wait())
    await asyncio.sleep(0.05)
    second = asyncio.create_task(wait())
    await asyncio.gather(first, second)

    assert ended[1] - ended[0] >= 0.04  # the second did not go down with the first
    turns.give_back()
    assert await _all_free(turns, 1)


async def test_a_cancelled_waiter_takes_no_turn_and_one_cancelled_as_it_was_served_passes_it_on():
    turns = Turns(1, timeout=5)
    await turns.take()
    cancelled = asyncio.create_task(turns.take())
    served_then_cancelled = asyncio.create_task(turns.take())
    behind: list[int] = []
    last = asyncio.create_task(_hold(turns, behind, 3, asyncio.Event()))
    await asyncio.sleep(0)

    cancelled.cancel()
    await asyncio.sleep(0)
    turns.give_back()  # goes past the cancelled waiter to the next one...
    served_then_cancelled.cancel()  # ...which is cancelled before it runs: it passes the turn on
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    assert cancelled.cancelled() and served_then_cancelled.cancelled()
    assert behind == [3]
    last.cancel()
    turns.give_back()
    assert await _all_free(turns, 1)
