"""One throttle for every password check: sign-in, `current_password`, anything later.

Failures are counted per client address (api/http/client_address.py): per (address,
subject) and per address across subjects. Past the free ones, each failure doubles the
delay before that client may try again, so guessing slows to a crawl while the owner,
signing in from anywhere else, is never held up by a stranger. No account as a whole is
ever locked.

A check is counted as a failure before it runs (concurrent guesses queue on the row lock
and cannot outrun the count) and forgiven when it succeeds. A refused check is a 429 with
`Retry-After`, before any hashing: a check asked for while the client's delay runs is
refused from a plain read, without a write or a row lock, and one that races past that read
by the write that counts it. The counts live in PostgreSQL, so every worker shares them.

The refusal from the read is sent only after a pause (api/security/holding.py), or the rest
of the delay if shorter, and the `Retry-After` sent is what is left of the delay after it,
so the moment the client may try again does not move. Answered at once, each refusal only
made the flood faster (make bench: 500 to 900 plain reads a second saturated a worker). The
refusal from the write is sent at once: it comes only to guesses sent together.

The subject of a sign-in is the login as typed, normalized and hashed, whether an account
has that name or not: a login naming nobody is throttled exactly like one naming somebody,
so the throttle does not tell which accounts exist.
"""

import hashlib
import math
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel

from api.config import Settings
from api.data.db import Session
from api.data.registry import queries
from api.http.errors import TooManyRequests
from api.security.holding import Holding
from api.security.passwords import Hashing


class Claim(BaseModel):
    """Internal: may the check run, and if not, for how long not."""

    admitted: bool
    retry_after: int


WAITING = queries.value("throttle/waiting", int)
CLAIM = queries.one("throttle/claim", Claim)
FORGIVE = queries.nothing("throttle/forgive")


def _too_many(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed password checks from this address; wait and try again.",
        headers={"Retry-After": str(retry_after)},
    )


def login_subject(normalized_login: str) -> str:
    """A sign-in's subject: the login, hashed (a mistyped password in the login field is not kept)."""
    return "login:" + hashlib.sha256(normalized_login.encode()).hexdigest()


def user_subject(user_id: int) -> str:
    """A signed-in user's current password."""
    return f"user:{user_id}"


class Throttle:
    """The throttle's settings, and where its refusals are held in this worker."""

    def __init__(self, settings: Settings, holding: Holding) -> None:
        self._settings = settings
        self._holding = holding

    async def check_password(
        self,
        db: Session,
        hashing: Hashing,
        client: IPv4Network | IPv6Network,
        subject: str,
        password_hash: str | None,
        password: str,
    ) -> bool:
        """Whether `password` matches `password_hash`, through the throttle. With no hash (no
        such account) the check takes as long as a real one and fails."""
        settings = self._settings
        # A client already told to wait is answered from a plain read: a flood of refused
        # guesses takes no row lock and writes nothing (make bench: it held pool connections).
        waiting = await db.run(WAITING, client, subject)
        if waiting is not None:
            hashing.give_back()  # a held answer must not keep others from checking passwords
            held = await self._holding.hold(longest=waiting)
            raise _too_many(max(1, math.ceil(waiting - held)))
        claim = await db.run(
            CLAIM,
            client,
            subject,
            settings.throttle_free_failures,
            settings.throttle_address_free_failures,
            settings.throttle_first_delay_seconds,
            settings.throttle_max_delay_seconds,
            settings.throttle_forget_seconds,
        )
        assert claim is not None  # a SELECT of two aggregates: one row, always
        if not claim.admitted:
            raise _too_many(claim.retry_after)
        if password_hash is None:
            await hashing.verify_nobody(password)
            return False
        if not await hashing.verify(password_hash, password):
            return False
        await db.run(FORGIVE, client, subject, settings.throttle_address_free_failures)
        return True


async def _throttle(request: Request) -> Throttle:
    throttle: Throttle = request.app.state.throttle  # set by create_app
    return throttle


ThrottleDep = Annotated[Throttle, Depends(_throttle)]
