"""The servers under load: the project, on its accelerator and on stock FastAPI, and the two
floors, each a process tree of its own.

Each is started on a free port with the same environment (database, pool) and the same
server options (api/tools/serve.py), is ready when every worker has finished its startup
and answers, and is stopped by its pid. Its log goes to a file, named when it fails.

The project runs twice: "project" with FAST_PATH=on, which must serve on the accelerator or
refuse to start (api/fastpath/), and "stock" with FAST_PATH=off, stock FastAPI. With
`--servers uvicorn,granian` both run on granian too ("project on granian", "stock on
granian"); the floors always run on uvicorn, the reference.
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
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.bench import machine
from tests.bench.loaders import REPO_ROOT
from tests.bench.loadgen import HOST

# Each server's log line once per worker, when its startup (the app's lifespan) is over.
STARTUP_COMPLETE = {"uvicorn": "Application startup complete", "granian": "Started worker-"}
SERVERS = tuple(STARTUP_COMPLETE)
STARTUP_TIMEOUT = 90.0
READY_PATH = "/users/1"  # answered by every target, through the database
# What api/fastpath/ says when FAST_PATH=on meets untested releases (it raises this, and the
# process exits), and when it serves on stock FastAPI after all (a warning at the first request).
REFUSAL = "UntestedVersions"
FALLBACK = "serving on stock FastAPI"


@dataclass(frozen=True)
class Target:
    name: str
    module_args: tuple[str, ...]  # python -m …
    env: tuple[tuple[str, str], ...] = ()  # for its processes only
    server: str = "uvicorn"
    fast_path: str | None = None  # the project's FAST_PATH; None for a floor

    @property
    def is_project(self) -> bool:
        return self.fast_path is not None


def project(fast_path: str, server: str = "uvicorn") -> Target:
    """The service as `make serve` runs it, with FAST_PATH and SERVER set."""
    name = {"on": "project", "off": "stock"}[fast_path] + ("" if server == "uvicorn" else f" on {server}")
    env = (("FAST_PATH", fast_path), ("SERVER", server))
    return Target(name, ("api.tools.serve",), env, server, fast_path)


PROJECT = project("on")
STOCK = project("off")
FASTAPI_FLOOR = Target("FastAPI floor", ("tests.bench.floors", "fastapi"))
STARLETTE_FLOOR = Target("Starlette floor", ("tests.bench.floors", "starlette"))


def chosen(servers: Sequence[str] = ("uvicorn",)) -> list[Target]:
    """The project and stock on each server (uvicorn's first), then the floors."""
    projects = [project(fast_path, server) for server in servers for fast_path in ("on", "off")]
    return [*projects, FASTAPI_FLOOR, STARLETTE_FLOOR]


class StartupError(RuntimeError):
    pass


class Refused(StartupError):
    """FAST_PATH=on and the accelerator refused to start: it was not tested with what is installed."""

    def __init__(self, target: Target, reason: str) -> None:
        super().__init__(f"{target.name} (FAST_PATH=on) refused to start: {reason}")
        self.target = target


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
            env={**env, **dict(target.env), "HOST": HOST, "PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes serving requests: under uvicorn, the process itself with one worker;
        with more, and always under granian, the spawned children (not multiprocessing's
        resource tracker)."""
        if self.workers == 1 and self.target.server == "uvicorn":
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
                if refusal := self._refusal():
                    raise Refused(self.target, f"{refusal} (log: {self.log_path})")
                raise StartupError(f"{self.target.name} exited {self.process.returncode}; see {self.log_path}")
            started = self.log_path.read_text(errors="replace").count(STARTUP_COMPLETE[self.target.server])
            if started >= self.workers and len(self.worker_pids()) == self.workers and self._answers():
                return
            time.sleep(0.2)
        raise StartupError(f"{self.target.name} was not ready in {STARTUP_TIMEOUT:.0f} s; see {self.log_path}")

    def _refusal(self) -> str | None:
        """The accelerator's reason for refusing to start, from the log, if that is why it exited."""
        if not self.target.is_project:
            return None
        lines = self.log_path.read_text(errors="replace").splitlines()
        return next((line.split(f"{REFUSAL}: ", 1)[1] for line in lines if f"{REFUSAL}: " in line), None)

    def fallback(self) -> str | None:
        """With FAST_PATH=on, the log line that says it serves on stock FastAPI after all, if any."""
        if self.target.fast_path != "on":
            return None
        return next((line for line in self.log_path.read_text(errors="replace").splitlines() if FALLBACK in line), None)

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
    """One environment for all: the database, a fixed pool, logs at INFO (the bench reads the
    servers' startup lines) and nothing from .env that could tell them apart."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "POOL_MIN_SIZE": str(pool_size),
        "POOL_MAX_SIZE": str(pool_size),
        "LOG_LEVEL": "INFO",
    }


@contextmanager
def started(
    targets: Sequence[Target], workers: int, env: dict[str, str], log_dir: Path
) -> Iterator[tuple[list[Running], list[Refused]]]:
    """The targets with `workers` workers each: those ready, and the refusals of those whose
    accelerator would not start; all stopped on the way out."""
    with ExitStack() as stack:
        servers = []
        for target in targets:
            server = Running(target, workers, env, log_dir)
            stack.callback(server.stop)
            servers.append(server)
        ready, refused = [], []
        for server in servers:
            try:
                server.wait_ready()
            except Refused as refusal:
                refused.append(refusal)
            else:
                ready.append(server)
        yield ready, refused
