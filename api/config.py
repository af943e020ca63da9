"""Settings, read from the environment and from `.env` (the environment wins).

Every field is documented in the README's settings table; `.env.example` lists them.
"""

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Where the data lives. Unset: `make run` and `make test` start an embedded server.
    database_url: SecretStr | None = None

    # Where the service listens (`make run` honours both).
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # The connection pool. A request holds at most one connection at a time.
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_acquire_timeout: float = Field(default=5.0, gt=0, description="seconds to wait for a free connection")
    command_timeout: float = Field(default=10.0, gt=0, description="seconds one statement may take, client side")

    # Seconds a client should wait before retrying after a 503.
    retry_after: int = Field(default=1, ge=0)

    # Sign-in: how long a token lasts, and failed attempts per account per minute before a 429.
    token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    login_attempts_per_minute: int = Field(default=10, ge=1)

    # Larger request bodies are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # argon2id cost; the floor is OWASP's minimum (19 MiB, 2 passes, 1 lane).
    argon2_memory_kib: int = Field(default=19 * 1024, ge=19 * 1024)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    return Settings()
