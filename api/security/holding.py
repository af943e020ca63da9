"""Refusals to password checks, held before they are sent.

A flood of sign-ins resends as soon as it is answered. Refused at once, each refusal only
makes it faster: a thousand immediate 503s a second saturated a worker that had no hashing
room left (make bench), each still a request through the event loop. Held, a flood sends one
request per connection and pause, and a request asleep on a timer holds no pool connection,
no place among the password checks and no CPU.

Two refusals are held: a 429 to a client that came back while its throttle delay runs (it
ignored `Retry-After`), and the 503 for want of hashing room. A well-behaved client meets
the first never (it waits for `Retry-After`), and the second only while the worker is under
a flood of password checks, when a pause before "retry shortly" costs it little.

Each pause is THROTTLE_HOLD_SECONDS stretched by up to half again at random, so the flood's
connections do not all come back in the same instant. At most THROTTLE_MAX_HELD are held at
once in a worker, and never more than half its MAX_CONNECTIONS, because held requests count
against that limit: past the bound a refusal is sent at once, so holding can never take a
worker's connections from anyone else.
"""

from __future__ import annotations

import asyncio
import random

from api.config import Settings

SPREAD = 1.5  # a pause is the hold times a random factor from 1 to this


class Holding:
    """This worker's refusals being held."""

    __slots__ = ("held", "most", "seconds")

    def __init__(self, seconds: float = 0.0, most: int = 0) -> None:
        self.seconds = seconds
        self.most = most
        self.held = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Holding:
        return cls(settings.throttle_hold_seconds, min(settings.throttle_max_held, settings.max_connections // 2))

    async def hold(self, longest: float | None = None) -> float:
        """Sleep before a refusal is sent (no longer than `longest`), unless as many as may be
        are held already; the seconds slept."""
        pause = self.seconds * random.uniform(1.0, SPREAD)  # noqa: S311 (a spread, not a secret)
        if longest is not None:
            pause = min(pause, longest)
        if pause <= 0 or self.held >= self.most:
            return 0.0
        self.held += 1
        try:
            await asyncio.sleep(pause)
        finally:  # a request cancelled mid-hold (its client gone) gives its place back too
            self.held -= 1
        return pause
