"""make stats: what each query file cost the database, read from pg_stat_statements."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from api.config import Settings
from api.data.db import Database, Session
from api.main import create_app
from api.tools import database, stats
from tests.accounts import new_account
from tests.queries import test_queries

CURRENT_SETTING = test_queries.value("settings/current", str)

ROOT = Path(__file__).parent.parent
TOOL_TIMEOUT = 60.0


async def _requests(url: str) -> int:
    """Two sign-ups and three reads of a profile, on the app over `url`; the profile's id."""
    app = create_app(Settings(database_url=SecretStr(url), _env_file=None))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ann = await new_account(client, "ann")
            await new_account(client, "bob")
            for _ in range(3):
                assert (await client.get(f"/users/{ann.id}")).status_code == 200
    return ann.id


async def test_each_query_file_appears_with_its_call_count(cluster_url):
    await _requests(cluster_url)

    database = await Database.open(Settings(database_url=SecretStr(cluster_url), _env_file=None))
    try:
        session = Session(database)
        await stats.enable(session)
        costs = {cost.query_file: cost for cost in await stats.by_query_file(session)}
    finally:
        await database.close()

    assert costs["users/create"].calls == 2
    assert costs["users/get_by_id"].calls == 3
    assert costs["users/get_by_id"].rows_returned == 3
    assert costs["users/get_by_id"].total_ms > 0
    assert costs["users/get_by_id"].shared_blks_hit + costs["users/get_by_id"].shared_blks_read > 0
    assert set(costs) <= set(stats.queries)  # asyncpg's own introspection carries no file's name


async def test_make_stats_prints_a_line_per_query_file_costliest_first(cluster_url):
    await _requests(cluster_url)

    printed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "api.tools.stats"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": cluster_url},
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )

    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0].split() == [
        "query",
        "file",
        "calls",
        "total",
        "ms",
        "mean",
        "ms",
        "rows",
        "blocks",
        "hit",
        "blocks",
        "read",
    ]
    by_file = {line.split()[0]: line.split() for line in lines[2:] if line and not line.startswith("not called")}
    assert by_file["users/get_by_id"][1] == "3"
    assert by_file["users/create"][1] == "2"
    totals = [float(fields[2].replace(",", "")) for fields in by_file.values()]
    assert totals == sorted(totals, reverse=True)
    [uncalled] = [line for line in lines if line.startswith("not called: ")]
    assert "posts/search" in uncalled and "users/get_by_id" not in uncalled


@pytest.mark.skipif(
    Settings().database_url is not None, reason="the suite runs on DATABASE_URL's server, not the embedded one"
)
async def test_the_embedded_server_loads_the_library(db):
    assert "pg_stat_statements" in (await db.run(CURRENT_SETTING, "shared_preload_libraries") or "")


def test_a_data_directory_is_given_the_servers_settings_once(tmp_path):
    assert database._configure_server(tmp_path) is False  # no cluster there yet: initdb writes the file
    (tmp_path / "postgresql.conf").write_text(f"# initdb's settings, and one added since\n{database.TERSE_ERRORS}\n")

    assert database._configure_server(tmp_path) is True
    assert database._configure_server(tmp_path) is False
    written = (tmp_path / "postgresql.conf").read_text()
    assert [written.count(line) for line in database.SERVER_SETTINGS] == [1] * len(database.SERVER_SETTINGS)
