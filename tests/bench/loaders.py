"""Running one load: wrk when it is installed, otherwise the project's asyncio generator.

Either runs as a process of its own, replays a requests file against one port for a fixed
time, and comes back as a `RunResult`.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.bench.loadgen import HOST, REQUEST_TIMEOUT

REPO_ROOT = Path(__file__).resolve().parents[2]
WRK_SCRIPT = Path(__file__).resolve().parent / "requests.lua"
WRK_MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class RunResult:
    requests: int
    seconds: float
    errors: int
    error_kinds: dict[str, int]
    p50_ms: float
    p99_ms: float
    loader_cpu: float = 0.0  # CPU seconds the load generator itself spent

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def loader_share(self) -> float:
        """The load generator's CPU time over the run's, in cores (1.0: one core all along)."""
        return self.loader_cpu / self.seconds if self.seconds else 0.0

    @classmethod
    def from_json(cls, data: dict, loader_cpu: float = 0.0) -> RunResult:
        kinds = {kind: int(count) for kind, count in data["errors"].items()}
        return cls(
            requests=int(data["requests"]),
            seconds=float(data["seconds"]),
            errors=sum(kinds.values()),
            error_kinds=kinds,
            p50_ms=float(data["p50_us"]) / 1000,
            p99_ms=float(data["p99_us"]) / 1000,
            loader_cpu=loader_cpu,
        )


class LoadError(RuntimeError):
    """The load generator failed; the message holds its output."""


class Loader:
    name: str

    def run(self, port: int, requests: Path, connections: int, duration: int) -> RunResult:
        raise NotImplementedError

    @staticmethod
    def _finish(command: list[str], duration: int, marker: str = "") -> RunResult:
        """Run the generator; its JSON line (after `marker`), with the CPU time it spent.

        The CPU time comes from the children's resource usage, which grows only when a child
        is reaped: the servers under load are children too, but they live on until the end.
        """
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=duration + 60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        for line in reversed(done.stdout.splitlines()):
            if line.startswith(marker) and line[len(marker) :].lstrip().startswith("{"):
                data = json.loads(line[len(marker) :])
                return RunResult.from_json(data, data.get("cpu_seconds", cpu))
        raise LoadError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


class Wrk(Loader):
    """wrk with one thread: C and epoll, so the load costs the shared cores as little as can be."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        version = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout.splitlines()
        self.name = version[0].split(" Copyright")[0] if version else "wrk"

    def run(self, port: int, requests: Path, connections: int, duration: int) -> RunResult:
        command = [
            self.executable,
            "--threads=1",
            f"--connections={connections}",
            f"--duration={duration}s",
            f"--timeout={int(REQUEST_TIMEOUT)}s",
            f"--script={WRK_SCRIPT}",
            f"http://{HOST}:{port}",
            "--",
            str(requests),
        ]
        return self._finish(command, duration, WRK_MARKER)


class AsyncioLoadgen(Loader):
    name = "tests/bench/loadgen.py (asyncio, uvloop)"

    def run(self, port: int, requests: Path, connections: int, duration: int) -> RunResult:
        command = [
            sys.executable,
            "-m",
            "tests.bench.loadgen",
            f"--port={port}",
            f"--requests={requests}",
            f"--connections={connections}",
            f"--duration={duration}",
        ]
        return self._finish(command, duration)


def choose(preference: str) -> Loader:
    """'auto': wrk if installed, else the asyncio generator; 'wrk' or 'python' to insist."""
    wrk = shutil.which("wrk")
    if preference == "wrk" and wrk is None:
        raise SystemExit("--loader wrk: wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    if preference in ("auto", "wrk") and wrk is not None:
        return Wrk(wrk)
    return AsyncioLoadgen()
