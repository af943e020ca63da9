"""Behind PgBouncer in transaction mode: the API tests run again, the app reaching PostgreSQL
only through the distribution's PgBouncer, with BEHIND_PGBOUNCER set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clusters import pgbouncer_binary

# Every kind of work the API does: reads, writes, transactions, concurrency, advisory locks.
API_TESTS = [
    "tests/test_items.py",
    "tests/test_posts.py",
    "tests/test_tags.py",
    "tests/test_auth.py",
    "tests/test_throttle.py",
    "tests/test_idempotency.py",
    "tests/test_conditional.py",
    "tests/test_pagination.py",
]


@pytest.mark.skipif(
    pgbouncer_binary() is None, reason="pgbouncer is not installed (Debian: apt-get install pgbouncer; .ci/run does)"
)
def test_the_api_tests_pass_behind_pgbouncer_in_transaction_mode():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *API_TESTS],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "API_TEST_THROUGH_PGBOUNCER": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
