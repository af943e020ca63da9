"""Settings, read from the environment and from `.env` (the environment wins).

Every field is documented in the README's settings table; `.env.example` lists them.
"""

import os
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def available_cpus() -> int:
    """The CPUs this process may run on (a container's limit where the OS applies one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Where the data lives. Unset: `make run` and `make test` start an embedded server.
    database_url: SecretStr | None = None

    # Optional: a streaming replica for the read-only queries; the primary serves when it fails.
    database_read_url: SecretStr | None = None
    # With a replica, a read sent with a consistency token waits at most this many seconds for
    # the replica to replay the write the token names, then is served by the primary.
    consistency_wait: float = Field(default=0.05, ge=0, le=5)
    # Also send the token as a cookie (for browsers), and take it back from one.
    consistency_cookie: bool = False
    # Behind PgBouncer in transaction mode: no prepared statement outlives a transaction.
    behind_pgbouncer: bool = False

    # Where the service listens (`make run` honours both).
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # The connection pool. A request holds at most one connection at a time.
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_acquire_timeout: float = Field(default=5.0, gt=0, description="seconds to wait for a free connection")

    # Timeouts, in seconds: every wait on the database ends, in a 503. The server cancels a
    # statement, a lock wait and an idle transaction itself; the client's command timeout is
    # the backstop for a server that stopped answering at all. 0 turns a server one off.
    statement_timeout: float = Field(default=5.0, ge=0)
    lock_timeout: float = Field(default=2.0, ge=0)
    idle_in_transaction_timeout: float = Field(default=10.0, ge=0)
    command_timeout: float = Field(default=10.0, gt=0)
    connect_timeout: float = Field(default=5.0, gt=0, description="seconds one connection attempt may take")
    # Starting with the database down: attempts before the service gives up and stops.
    connect_attempts: int = Field(default=30, ge=1)
    # On SIGTERM: seconds in-flight requests get to finish before the server closes them.
    shutdown_timeout: float = Field(default=10.0, ge=0)
    # On SIGTERM, first: seconds /health/ready answers 503 while requests are served as usual,
    # so that a load balancer stops sending new ones before the server stops taking them.
    shutdown_grace_seconds: float = Field(default=0.0, ge=0)

    # Seconds a client should wait before retrying after a 503.
    retry_after: int = Field(default=1, ge=0)

    # Sign-in: how long a token lasts.
    token_ttl_seconds: int = Field(default=24 * 3600, ge=60)

    # The password-check throttle (api/security/throttle.py). Failures are counted per account
    # and client address, and per client address across accounts; past the free ones, each
    # failure makes the client wait twice as long as the last (a 429), up to the cap. Failures
    # are forgotten after a quiet spell.
    throttle_free_failures: int = Field(default=5, ge=1, description="per account, from one address")
    throttle_address_free_failures: int = Field(default=20, ge=1, description="from one address, any accounts")
    throttle_first_delay_seconds: int = Field(default=1, ge=1)
    throttle_max_delay_seconds: int = Field(default=900, ge=1)
    throttle_forget_seconds: int = Field(default=3600, ge=60)
    # Refusals to password checks (a 429 to a client back while its delay runs, a 503 for want
    # of hashing room) are sent after this pause, at most this many held at once per worker
    # and never more than half of max_connections; past them, at once (api/security/holding.py).
    throttle_hold_seconds: float = Field(
        default=1.0, ge=0, le=10, description="seconds a password-check refusal waits before it is sent; 0: at once"
    )
    throttle_max_held: int = Field(
        default=500, ge=0, le=10_000, description="refusals held at once per worker (at most MAX_CONNECTIONS / 2)"
    )
    # Peers whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated): the client
    # is the right-most hop that is not one of them. None by default: the socket's peer is the client.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []

    # Password hashing is CPU-bound and costly by design: at most this many argon2id
    # computations run at once in a worker, this many more may wait, and beyond them a check
    # is answered 503 before any statement (after the refusals' pause).
    hashing_concurrency: int = Field(
        default_factory=lambda: max(1, available_cpus() // 2),
        ge=1,
        # make bench, a sign-in flood on 2 cores: with both busy hashing, a point lookup beside
        # it took 2.1 to 2.9 times its median; with one, 1.4 to 1.5 times.
        description="argon2id computations at once per worker; default half its CPUs, leaving the rest to serving",
    )
    hashing_queue: int = Field(default=8, ge=0)

    # How long the answer to a POST sent with an Idempotency-Key is kept for its retries.
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)

    # Browser pages on these origins may call the API (CORS), comma-separated
    # (`https://app.example.com,http://localhost:5173`); none by default.
    cors_origins: Annotated[list[str], NoDecode] = []

    # Larger request bodies are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # What the server reads before a request reaches the app (api/http/request_head.py and
    # uvicorn's options, set by api/tools/serve.py): a head (request line and headers) over
    # max_header_bytes or with more than max_headers lines is a 431, one not complete within
    # header_timeout seconds a 408; a kept-alive connection idle for keep_alive_timeout seconds
    # is closed; past max_connections open connections, a worker answers 503.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_headers: int = Field(default=100, ge=10)
    header_timeout: float = Field(default=10.0, gt=0)
    keep_alive_timeout: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)

    # argon2id cost; the floor is OWASP's minimum (19 MiB, 2 passes, 1 lane).
    argon2_memory_kib: int = Field(default=19 * 1024, ge=19 * 1024)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    # The accelerator (api/fastpath/): auto serves on it where the installed FastAPI, Starlette
    # and Pydantic are the releases it was tested with, and on stock FastAPI elsewhere; on
    # refuses to start on any other release; off is stock FastAPI everywhere.
    fast_path: Literal["auto", "on", "off"] = "auto"

    # Every answer says how long it spent in the database and waiting for a connection
    # (Server-Timing, which browsers' devtools show).
    server_timing: bool = True

    log_level: str = "INFO"
    # A line per request: its method, route template, status and milliseconds, never the path
    # or query it sent. make run's default; in production the proxy in front logs requests.
    request_log: bool = False
    # json: one JSON object per line, for a log pipeline; text: one readable line, for a terminal.
    log_format: Literal["json", "text"] = "json"

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
