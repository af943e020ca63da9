"""Serve the API: `make run` (development) and `make serve WORKERS=n` (production).

Finds the database (DATABASE_URL, or the embedded server), applies pending migrations,
then runs uvicorn on HOST:PORT from the settings.

    python -m api.tools.serve [--reload] [--workers N]
"""

from __future__ import annotations

import argparse
import logging
import logging.config
import os

import uvicorn

from api.config import Settings
from api.logs import logging_config
from api.tools import migrate
from api.tools.database import development_database

log = logging.getLogger("api.tools.serve")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (production)")
    args = parser.parse_args()

    settings = Settings()
    config = logging_config(settings.log_level)
    logging.config.dictConfig(config)
    with development_database(settings) as url:
        os.environ["DATABASE_URL"] = url  # the workers read their settings afresh
        applied = migrate.apply(url)
        log.info("migrations applied: %s", ", ".join(applied) or "none pending")
        uvicorn.run(
            "api.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            reload=args.reload,
            workers=None if args.reload else args.workers,
            log_config=config,
            access_log=args.reload,  # a log line per request costs throughput in production
        )


if __name__ == "__main__":
    main()
