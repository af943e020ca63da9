"""The embedded server's plumbing: its programs found by public means, one process at a time
joining or leaving it, and its chatter kept out of the commands' output."""

import logging
import subprocess
import sys
from pathlib import Path

from api.config import Settings
from api.tools import database

# Another process tries to take the lock without waiting: exit 0 if it got it, 1 if not.
TRY_LOCK = """
import fcntl, os, sys
directory = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.flock(directory, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(1)
"""


def _another_process_gets_the_lock(pgdata: Path) -> bool:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(pgdata)], timeout=30).returncode == 0


def test_the_client_programs_are_found_in_the_wheel():
    for program in ("psql", "createdb", "dropdb", "initdb", "postgres"):
        assert Path(database.client_program(program)).is_file()


def test_no_other_process_joins_or_leaves_while_one_does(tmp_path):
    with database._users_lock(tmp_path):
        assert not _another_process_gets_the_lock(tmp_path)

    assert _another_process_gets_the_lock(tmp_path)


def test_joining_the_embedded_server_says_one_line_and_the_wheel_nothing(caplog):
    caplog.set_level(logging.DEBUG)

    with database.embedded_server(Settings(_env_file=None, log_level="INFO")):
        pass

    assert [(record.name, record.levelno) for record in caplog.records] == [("api.tools.database", logging.INFO)]
