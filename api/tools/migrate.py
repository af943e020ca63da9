"""Schema migrations with yoyo: `make migrate` applies them all, `make rollback` undoes the last.

yoyo is synchronous and talks to PostgreSQL through psycopg; it reads the same DATABASE_URL
as the service, with the driver named in the scheme.

    python -m api.tools.migrate apply|rollback|status
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from yoyo import get_backend, read_migrations
from yoyo.backends.base import DatabaseBackend
from yoyo.migrations import MigrationList

from api.config import Settings
from api.tools.database import REPO_ROOT, development_database

MIGRATIONS_DIR = REPO_ROOT / "migrations"


def yoyo_url(url: str) -> str:
    """postgresql://… becomes postgresql+psycopg://… (psycopg 3, not yoyo's default psycopg2)."""
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql+psycopg"))


@contextmanager
def _migrations(url: str, migrations_dir: Path) -> Iterator[tuple[DatabaseBackend, MigrationList]]:
    with get_backend(yoyo_url(url)) as backend:  # closes its connection on exit
        yield backend, read_migrations(str(migrations_dir))


def apply(url: str, target: str | None = None, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every migration not yet applied, up to and including `target` if given; returns their ids."""
    with _migrations(url, migrations_dir) as (backend, migrations), backend.lock():
        pending = backend.to_apply(migrations)
        if target is not None:
            pending = MigrationList([m for m in pending if m.id <= target], pending.post_apply)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def rollback(url: str, count: int = 1, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Undo the last `count` applied migrations, newest first; returns their ids."""
    with _migrations(url, migrations_dir) as (backend, migrations), backend.lock():
        undone = backend.to_rollback(migrations)[:count]
        backend.rollback_migrations(undone)
    return [m.id for m in undone]


def applied(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    return [migration_id for migration_id, is_applied in status(url, migrations_dir) if is_applied]


def status(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[tuple[str, bool]]:
    """Every migration's id, oldest first, and whether it is applied."""
    with _migrations(url, migrations_dir) as (backend, migrations):
        return [(m.id, backend.is_applied(m)) for m in migrations]


def _report(command: str, url: str, count: int) -> list[str]:
    """Run `command`; what it did, a line per migration, for a developer to read."""
    if command == "apply":
        done = apply(url)
        return [f"applied      {m}" for m in done] or ["nothing to apply: the schema is up to date"]
    if command == "rollback":
        done = rollback(url, count)
        return [f"rolled back  {m}" for m in done] or ["nothing to roll back: no migration is applied"]
    return [f"{'applied' if is_applied else 'pending':<12} {m}" for m, is_applied in status(url)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["apply", "rollback", "status"])
    parser.add_argument("--count", type=int, default=1, help="rollback: how many migrations to undo")
    args = parser.parse_args()
    settings = Settings()
    # Our own lines at LOG_LEVEL; libraries' (yoyo's, the embedded server's) from WARNING up.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("api").setLevel(settings.log_level.upper())
    with development_database(settings) as url:
        for line in _report(args.command, url, args.count):
            print(line)


if __name__ == "__main__":
    main()
