"""The servers under load: the project and the two floors, each a process tree of its own.

Each is started on a free port with the same environment (database, pool) and the same
uvicorn options (api/tools/serve.py), is ready when every worker has finished its startup
and answers, and is stopped by its pid. Its log goes to a file, named when it fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.bench import machine
from tests.bench.loaders import REPO_ROOT
from tests.bench.loadgen import HOST

STARTUP_COMPLETE = "Application startup complete"  # uvicorn's line, once per worker
STARTUP_TIMEOUT = 90.0
READY_PATH = "/users/1"  # answered by all three, through the database


@dataclass(frozen=True)
class Target:
    name: str
    module_args: tuple[str, ...]  # python -m …


PROJECT = Target("project", ("api.tools.serve",))
FASTAPI_FLOOR = Target("FastAPI floor", ("tests.bench.floors", "fastapi"))
STARLETTE_FLOOR = Target("Starlette floor", ("tests.bench.floors", "starlette"))
TARGETS = (PROJECT, FASTAPI_FLOOR, STARLETTE_FLOOR)


class StartupError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Running:
    """A started target: its port, its processes, its log."""

    def __init__(self, target: Target, workers: int, env: dict[str, str], log_dir: Path) -> None:
        self.target = target
        self.workers = workers
        self.port = free_port()
        self.log_path = log_dir / f"{target.name.replace(' ', '-').lower()}-{workers}w-{self.port}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", *target.module_args, f"--workers={workers}"],
            cwd=REPO_ROOT,
            env={**env, "HOST": HOST, "PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the process itself with one worker; with more,
        uvicorn's spawned children (not multiprocessing's resource tracker)."""
        if self.workers == 1:
            return [self.process.pid]
        children = psutil.Process(self.process.pid).children()
        return sorted(child.pid for child in children if "spawn_main" in " ".join(_cmdline(child)))

    def resident_bytes(self) -> dict[int, int]:
        return {pid: psutil.Process(pid).memory_info().rss for pid in self.worker_pids()}

    def cpu_seconds(self) -> float:
        """CPU time (user and system) its workers have spent so far."""
        return sum(machine.cpu_seconds(psutil.Process(pid)) for pid in self.worker_pids())

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartupError(f"{self.target.name} exited {self.process.returncode}; see {self.log_path}")
            started = self.log_path.read_text(errors="replace").count(STARTUP_COMPLETE)
            if started >= self.workers and len(self.worker_pids()) == self.workers and self._answers():
                return
            time.sleep(0.2)
        raise StartupError(f"{self.target.name} was not ready in {STARTUP_TIMEOUT:.0f} s; see {self.log_path}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + READY_PATH, timeout=5) as response:  # noqa: S310  (our own http URL)
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """SIGTERM, as a process manager stops uvicorn; SIGKILL to whatever is left after 20 s."""
        workers = self._known_children()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for child in workers:
            if child.is_running():
                child.kill()
        self._log.close()

    def _known_children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def target_env(database_url: str, pool_size: int) -> dict[str, str]:
    """One environment for all three: the database, a fixed pool, logs at INFO (the bench
    reads uvicorn's startup lines) and nothing from .env that could tell them apart."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "POOL_MIN_SIZE": str(pool_size),
        "POOL_MAX_SIZE": str(pool_size),
        "LOG_LEVEL": "INFO",
    }


@contextmanager
def started(workers: int, env: dict[str, str], log_dir: Path) -> Iterator[list[Running]]:
    """All three targets with `workers` workers each, ready; stopped on the way out."""
    with ExitStack() as stack:
        running = []
        for target in TARGETS:
            server = Running(target, workers, env, log_dir)
            stack.callback(server.stop)
            running.append(server)
        for server in running:
            server.wait_ready()
        yield running
