"""Password hashing: argon2id, at or above OWASP's minimum, off the event loop, bounded.

Hashing takes tens of milliseconds of CPU by design; run on the event loop it would stall
every other request, so it runs in a worker thread (argon2 releases the GIL). It is also the
cheapest way to make a server busy: so at most HASHING_CONCURRENCY computations run at once
in a worker (its CPUs by default), HASHING_QUEUE more may wait their turn, and past those a
check is refused at once with a 503 and `Retry-After` rather than queue without end while
point lookups wait behind it.
"""

import asyncio
import ctypes
import ctypes.util
import secrets
from collections.abc import Callable
from typing import Annotated, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request

from api.config import Settings
from api.http.errors import ServiceUnavailable

T = TypeVar("T")

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
OWN_MAPPING_FROM = 1 << 20  # bytes: blocks this large get a mapping of their own


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


class Passwords:
    def __init__(self, settings: Settings) -> None:
        _give_hash_memory_back()
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._nobody = self._hasher.hash(secrets.token_hex(16))
        self._turns = asyncio.Semaphore(settings.hashing_concurrency)
        self._room = settings.hashing_concurrency + settings.hashing_queue
        self._wanted = 0  # computations running or waiting for a turn

    async def _bounded(self, compute: Callable[..., T], *args: str) -> T:
        if self._wanted >= self._room:
            raise ServiceUnavailable("Too many password checks at once; retry shortly.")
        self._wanted += 1
        try:
            async with self._turns:
                return await asyncio.to_thread(compute, *args)
        finally:
            self._wanted -= 1

    async def verify_nobody(self, password: str) -> None:
        """Spend the time a verification takes, so that a sign-in naming no account is as
        slow as a wrong password: timing must not tell which accounts exist."""
        await self.verify(self._nobody, password)

    async def hash(self, password: str) -> str:
        return await self._bounded(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await self._bounded(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


async def _passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords  # set by the lifespan
    return passwords


PasswordsDep = Annotated[Passwords, Depends(_passwords)]
