"""SIGTERM behind a load balancer: first stop being ready, then stop.

A balancer keeps sending requests to a server until its health check fails. A server that
stops taking connections the moment SIGTERM arrives (uvicorn's way) refuses the requests
sent meanwhile. With SHUTDOWN_GRACE_SECONDS, SIGTERM first turns `/health/ready` to 503
while every other request is served as usual, and each answer says `Connection: close` so
that kept-alive clients reconnect elsewhere; only when the grace is over does the server's
own handler run: it stops taking connections, lets in-flight requests finish
(SHUTDOWN_TIMEOUT), and the lifespan closes the pool.

Public means only: the server's handler (uvicorn installs it with `signal.signal` before the
lifespan starts) is wrapped, not replaced, and put back when the lifespan ends. A second
SIGTERM during the grace, or a SIGINT, reaches the server's handler at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger("api.http.draining")


class Draining:
    """Whether the process is in its shutdown grace: no longer ready, still serving."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active = False


@contextmanager
def grace_on_sigterm(draining: Draining, grace: float) -> Iterator[None]:
    """While the app runs: SIGTERM starts the grace, and reaches the server's handler after it.

    Nothing changes with no grace, off the main thread (signals are the main thread's), or
    when no Python handler is installed (the app is not under a server that drains)."""
    previous = signal.getsignal(signal.SIGTERM)
    if grace <= 0 or threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    loop = asyncio.get_running_loop()
    server_handler = previous

    def after_grace(signum: int, frame: FrameType | None) -> None:
        if draining.active:  # asked again: stop now
            server_handler(signum, frame)
            return
        draining.active = True
        log.info("SIGTERM: /health/ready answers 503 for %.1f s, then the server stops", grace)
        # A signal handler runs between two bytecodes of whatever the loop was doing: hand over.
        loop.call_soon_threadsafe(loop.call_later, grace, server_handler, signum, None)

    signal.signal(signal.SIGTERM, after_grace)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is after_grace:
            signal.signal(signal.SIGTERM, previous)
