"""`make lint`: the checks a reviewer would run, all of them, failing if any fails.

- sqlfluff over every query file (`.sqlfluff`: PostgreSQL dialect, `$n` placeholders);
- squawk over the migrations, each linted the way yoyo runs it: in a transaction unless it
  says `-- transactional: false`. A rollback may drop what its migration made;
- ruff over the Python code, for lint and for format;
- mypy, strict, over api/ (`[tool.mypy]` in pyproject.toml).

Each check prints one line with its verdict. A failed one adds what the tool said and the
command that shows it again, or fixes it; a passing one's chatter is not shown.

    python -m api.tools.lint
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from api.tools.database import REPO_ROOT
from api.tools.migrate import MIGRATIONS_DIR

BIN = Path(sys.executable).parent
SQUAWK_PG_VERSION = "15"  # the oldest PostgreSQL the service supports
ROLLBACKS_MAY = "ban-drop-table,ban-drop-column,ban-drop-constraint,ban-drop-index"
PYTHON = ["api", "tests"]


@dataclass(frozen=True)
class Check:
    name: str
    covers: str
    commands: list[list[str]]  # all must pass (squawk: one a migration, each with its flags)
    fix: list[str] | None = None  # a command that fixes what it finds, where the tool has one


@dataclass(frozen=True)
class Outcome:
    check: Check
    failed: list[tuple[list[str], str]]  # each failing command, with what it printed


def _tool(name: str) -> str:
    return str(BIN / name)


def _squawk(migration: Path) -> list[str]:
    command = [_tool("squawk"), f"--pg-version={SQUAWK_PG_VERSION}"]
    if "-- transactional: false" not in migration.read_text():
        command.append("--assume-in-transaction")
    if migration.name.endswith(".rollback.sql"):
        command.append(f"--exclude={ROLLBACKS_MAY}")
    return [*command, str(migration.relative_to(REPO_ROOT))]


def checks() -> list[Check]:
    migrations = sorted(MIGRATIONS_DIR.glob("*.sql"))
    return [
        Check(
            "sqlfluff",
            "sql/ tests/sql/",
            [[_tool("sqlfluff"), "lint", "sql", "tests/sql"]],
            [_tool("sqlfluff"), "fix", "sql", "tests/sql"],
        ),
        Check("squawk", f"migrations/ ({len(migrations)} files)", [_squawk(m) for m in migrations]),
        Check(
            "ruff check", "api/ tests/", [[_tool("ruff"), "check", *PYTHON]], [_tool("ruff"), "check", "--fix", *PYTHON]
        ),
        Check(
            "ruff format",
            "api/ tests/",
            [[_tool("ruff"), "format", "--check", *PYTHON]],
            [_tool("ruff"), "format", *PYTHON],
        ),
        Check("mypy", "api/ (strict)", [[_tool("mypy")]]),
    ]


def run(check: Check) -> Outcome:
    failed = []
    for command in check.commands:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            failed.append((command, (done.stdout + done.stderr).strip()))
    return Outcome(check, failed)


def _shown(command: list[str]) -> str:
    """The command as a developer types it from the checkout: .venv/bin/ruff, not /home/…/ruff."""
    return shlex.join(
        str(Path(part).relative_to(REPO_ROOT)) if part.startswith(str(REPO_ROOT)) else part for part in command
    )


def report(outcome: Outcome) -> list[str]:
    check = outcome.check
    verdict = "ok" if not outcome.failed else "FAILED"
    lines = [f"{check.name:<12} {check.covers:<24} {verdict}"]
    for command, output in outcome.failed:
        lines += [f"    {line}" for line in output.splitlines()]
        lines.append(f"    see it again: {_shown(command)}")
    if outcome.failed and check.fix:
        lines.append(f"    fix it:       {_shown(check.fix)}")
    return lines


def main() -> None:
    # The checks run at once (sqlfluff takes most of the time); their lines come out in order.
    with ThreadPoolExecutor() as pool:
        outcomes = list(pool.map(run, checks()))
    for outcome in outcomes:
        print("\n".join(report(outcome)))
    sys.exit(1 if any(outcome.failed for outcome in outcomes) else 0)


if __name__ == "__main__":
    main()
