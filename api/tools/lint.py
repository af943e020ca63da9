"""`make lint`: the checks a reviewer would run, all of them, failing if any fails.

- sqlfluff over every query file (`.sqlfluff`: PostgreSQL dialect, `$n` placeholders);
- squawk over the migrations, each linted the way yoyo runs it: in a transaction unless it
  says `-- transactional: false`. A rollback may drop what its migration made;
- ruff over the Python code, for lint and for format.

    python -m api.tools.lint
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api.tools.database import REPO_ROOT
from api.tools.migrate import MIGRATIONS_DIR

BIN = Path(sys.executable).parent
SQUAWK_PG_VERSION = "15"  # the oldest PostgreSQL the service supports
ROLLBACKS_MAY = "ban-drop-table,ban-drop-column,ban-drop-constraint,ban-drop-index"


def _squawk(migration: Path) -> list[str]:
    command = [str(BIN / "squawk"), f"--pg-version={SQUAWK_PG_VERSION}"]
    if "-- transactional: false" not in migration.read_text():
        command.append("--assume-in-transaction")
    if migration.name.endswith(".rollback.sql"):
        command.append(f"--exclude={ROLLBACKS_MAY}")
    return [*command, str(migration)]


def commands() -> list[list[str]]:
    return [
        [str(BIN / "sqlfluff"), "lint", "sql", "tests/sql"],
        *(_squawk(migration) for migration in sorted(MIGRATIONS_DIR.glob("*.sql"))),
        [str(BIN / "ruff"), "check", "api", "tests"],
        [str(BIN / "ruff"), "format", "--check", "api", "tests"],
    ]


def main() -> None:
    failed = [command for command in commands() if subprocess.run(command, cwd=REPO_ROOT).returncode != 0]
    for command in failed:
        print(f"FAILED: {' '.join(command)}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
