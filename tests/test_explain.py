"""`make explain` on a small seeded database: every query of the registry is named in what it
prints, each of the service's under a header with its plan, and it exits 0."""

import os
import re
import subprocess
import sys

import pytest

from api.config import Settings
from api.data.registry import queries
from api.tools import migrate, seed
from api.tools.database import REPO_ROOT, scratch_database
from api.tools.explain import MAINTENANCE, TYPICAL_VALUES

HEADER = re.compile(r"^== (?P<name>\S+) \((?P<label>[^)]*)\)$", re.MULTILINE)
EXPLAIN_TIMEOUT = 120.0  # seconds; it takes one or two on a small dataset


@pytest.fixture(scope="module")
async def seeded_url():
    with scratch_database(Settings(), prefix="api_explain") as url:
        migrate.apply(url)
        await seed.seed(url, users=20, posts=200, items=200, log=lambda line: None)
        yield url


@pytest.fixture(scope="module")
def explained(seeded_url) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.tools.explain"],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": seeded_url},
        capture_output=True,
        text=True,
        timeout=EXPLAIN_TIMEOUT,
    )


def test_explain_exits_cleanly_and_explains_every_query(explained):
    assert explained.returncode == 0, explained.stderr
    assert "could not explain" not in explained.stdout


def test_every_query_of_the_service_has_a_header_and_a_plan(explained):
    service = {name for name in queries if not name.startswith(MAINTENANCE)}
    sections = HEADER.split(explained.stdout)[1:]  # name, label, body, name, label, body …
    planned = {name for name, body in zip(sections[::3], sections[2::3], strict=True) if "cost=" in body}

    assert service - planned == set()


def test_the_seeds_statements_are_named_in_one_line_not_explained(explained):
    maintenance = sorted(name for name in queries if name.startswith(MAINTENANCE))
    lines = [line for line in explained.stdout.splitlines() if line.startswith("not explained:")]

    assert len(lines) == 1
    assert all(name in lines[0] for name in maintenance)
    assert not any(match["name"] in maintenance for match in HEADER.finditer(explained.stdout))


def test_every_parameter_type_of_the_service_has_a_typical_value():
    service = [query for name, query in queries.items() if not name.startswith(MAINTENANCE)]
    types = {param.type for query in service for param in query.params}

    assert types - TYPICAL_VALUES.keys() == set()
