"""Password hashing: argon2id, at or above OWASP's minimum, off the event loop.

Hashing takes tens of milliseconds of CPU by design; run on the event loop it would stall
every other request, so it runs in a worker thread (argon2 releases the GIL).
"""

import asyncio
import secrets
from typing import Annotated

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request

from api.config import Settings


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._nobody = self._hasher.hash(secrets.token_hex(16))

    async def verify_nobody(self, password: str) -> None:
        """Spend the time a verification takes, so that a sign-in naming no account is as
        slow as a wrong password: timing must not tell which accounts exist."""
        await self.verify(self._nobody, password)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


async def _passwords(request: Request) -> Passwords:
    return request.app.state.passwords


PasswordsDep = Annotated[Passwords, Depends(_passwords)]
