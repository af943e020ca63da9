"""Password hashing: argon2id, at or above OWASP's minimum, off the event loop, bounded.

Hashing takes tens of milliseconds of CPU by design; run on the event loop it would stall
every other request, so it runs in a worker thread (argon2 releases the GIL). It is also the
cheapest way to make a server busy: so at most HASHING_CONCURRENCY computations run at once
in a worker, HASHING_QUEUE more may wait their turn, and past those a check is refused with
a 503 and `Retry-After` rather than queue without end while point lookups wait behind it.
The refusal is sent after a pause (api/security/holding.py): nothing waits for hashing, but
a flood that resends as soon as it is answered is not answered at once. By default half
the worker's CPUs hash (at least one): the other half stays free for the event loop, which
serves everything else. With every CPU hashing under a flood of
sign-ins, a point lookup's median on 2 cores rose to 2.1 to 2.9 times its unloaded figure;
with half, to 1.4 to 1.5 times (make bench).

The computations run on threads of their own at the lowest CPU priority (nice 19, on Linux,
where each thread has its own): when serving wants a CPU, the scheduler gives it the CPU,
and hashing takes what is left. Under a flood of sign-ins the hashing goes slower, not the
point lookups beside it; on an idle machine it goes as fast as before.

A request takes its place among those first, before any statement: `async with
passwords.admitted() as hashing:`, and only `hashing` can hash or verify. So a request
refused for want of room costs no database work (reading the stored hash, the throttle's
read and write), and no caller can reach argon2 without a place. A refusal is not a failed
password check: the throttle never hears of it.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Annotated, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request

from api.config import Settings
from api.http.errors import ServiceUnavailable
from api.security.holding import Holding

T = TypeVar("T")

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
OWN_MAPPING_FROM = 1 << 20  # bytes: blocks this large get a mapping of their own
LOWEST_PRIORITY = 19  # nice


def _give_hash_memory_back() -> None:
    """Make freed argon2 memory go back to the system.

    Each hash takes memory_cost KiB (19 MiB) in a worker thread. glibc serves the first such
    block from a mapping of its own and unmaps it when freed, but then raises its threshold
    and serves every later one from the thread's heap, which keeps it: eight sign-ins at once
    left a worker 114 MiB larger for good. A threshold set once stays fixed. Other C
    libraries (musl, macOS) have no mallopt and are left as they are."""
    name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None) if name else None
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, OWN_MAPPING_FROM)


def _yield_to_serving() -> None:
    """Run this hashing thread at the lowest priority. Linux gives each thread a nice value
    of its own (its native id names it); raising one's own needs no privilege. Elsewhere, or
    where refused, the thread keeps the process's priority."""
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class Passwords:
    """The hasher, and this worker's places for password computations."""

    def __init__(self, settings: Settings, holding: Holding | None = None) -> None:
        _give_hash_memory_back()
        self._holding = holding or Holding()  # where a refusal waits before it is sent
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._nobody = self._hasher.hash(secrets.token_hex(16))
        # One thread per computation at once, made as needed; the rest queue in arrival order
        # (a queued one whose request is cancelled never runs). They end when the app goes.
        self._threads = ThreadPoolExecutor(
            settings.hashing_concurrency, thread_name_prefix="argon2id", initializer=_yield_to_serving
        )
        self._room = settings.hashing_concurrency + settings.hashing_queue
        self.places_taken = 0  # requests holding a place: computing, waiting a turn, or about to

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[Hashing]:
        """A place among the running and waiting computations, held for the block; with no
        room, a 503 (after a pause: api/security/holding.py)."""
        if self.places_taken >= self._room:
            await self._holding.hold()
            raise ServiceUnavailable("Too many password checks at once; retry shortly.")
        self.places_taken += 1
        hashing = Hashing(self)
        try:
            yield hashing
        finally:
            hashing.give_back()

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


class Hashing:
    """A request's place among the password computations (`Passwords.admitted`): the only
    way to hash or verify. One computation at a time per place."""

    def __init__(self, passwords: Passwords) -> None:
        self._passwords = passwords
        self._held = True

    def give_back(self) -> None:
        """Leave the place before the block ends (a request about to wait for something else)."""
        if self._held:
            self._held = False
            self._passwords.places_taken -= 1

    async def _computed(self, compute: Callable[..., T], *args: str) -> T:
        if not self._held:
            raise RuntimeError("a password computation after its place was given back")
        return await asyncio.get_running_loop().run_in_executor(self._passwords._threads, compute, *args)

    async def hash(self, password: str) -> str:
        return await self._computed(self._passwords._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await self._computed(self._passwords._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify_nobody(self, password: str) -> None:
        """Spend the time a verification takes, so that a sign-in naming no account is as
        slow as a wrong password: timing must not tell which accounts exist."""
        await self.verify(self._passwords._nobody, password)


async def _passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords  # set by the lifespan
    return passwords


PasswordsDep = Annotated[Passwords, Depends(_passwords)]
