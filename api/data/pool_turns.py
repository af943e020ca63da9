"""Turns at the connection pool: first come, first served, each wait bounded.

asyncpg's pool hands a freed connection to its first waiter, but a request arriving before
that waiter runs takes it, and the waiter goes back to the end of the line: under load, a
few requests wait many times their share (make bench: the slowest 1% took six times as long
as the median). `Turns` queues them instead: as many turns as the pool has connections, and
a turn given back goes straight to the oldest waiter, so no newcomer can take it first.

Every wait is bounded by the same timeout and waiters queue in arrival order, so their
deadlines come in order too: one timer, set for the oldest waiter's deadline, serves the
whole line. (asyncio.Semaphore under asyncio.timeout sets and cancels a timer for every
wait, which under load is most of what a turn costs.)
"""

from __future__ import annotations

import asyncio
from collections import deque


class Turns:
    __slots__ = ("_free", "_loop", "_timeout", "_timer", "_waiters")

    def __init__(self, count: int, timeout: float) -> None:
        self._free = count
        self._timeout = timeout
        self._waiters: deque[tuple[float, asyncio.Future[None]]] = deque()  # (deadline, waiter), oldest first
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def take(self) -> None:
        """Take a turn, waiting behind everyone who came before; TimeoutError past the timeout."""
        if self._free:  # a free turn means nobody waits (give_back hands turns to waiters first)
            self._free -= 1
            return
        loop = self._loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        deadline = loop.time() + self._timeout
        self._waiters.append((deadline, waiter))
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.give_back()  # handed a turn just as the request was cancelled: pass it on
            raise

    def give_back(self) -> None:
        """End a turn: the oldest waiter still waiting gets it, or it is free."""
        waiters = self._waiters
        while waiters:
            _, waiter = waiters.popleft()
            if not waiter.done():  # not timed out or cancelled
                waiter.set_result(None)
                return
        self._free += 1

    def _expire(self) -> None:
        """Fail the waiters whose deadline passed, and set the timer for the next deadline."""
        self._timer = None
        assert self._loop is not None  # set by the wait that armed the timer
        now = self._loop.time()
        waiters = self._waiters
        while waiters and (waiters[0][0] <= now or waiters[0][1].done()):
            _, waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_exception(TimeoutError())
        if waiters:
            self._timer = self._loop.call_at(waiters[0][0], self._expire)
