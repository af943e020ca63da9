"""What the figures were measured on: they mean little without the machine, the software and
how busy the machine was (the load average before and after: others share these cores)."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from importlib import metadata
from pathlib import Path

import asyncpg
import psutil

PACKAGES = ("fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools", "asyncpg", "orjson")
OPTIONAL = ("granian",)  # named when installed


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpus() -> str:
    logical = os.cpu_count() or 0
    physical = psutil.cpu_count(logical=False)
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else logical
    return f"{logical} logical ({physical} physical, {available} available to this process)"


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


async def postgres_version(url: str) -> str:
    """The server's version, from the connection's startup parameters (no statement sent)."""
    connection = await asyncpg.connect(url)
    try:
        return connection.get_settings().server_version
    finally:
        await connection.close()


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time (user and system) the process has spent so far."""
    times = process.cpu_times()
    return times.user + times.system


class DatabaseServer:
    """The PostgreSQL server's processes, when it runs on this machine and we may read them:
    the postmaster and its children (backends, WAL writer, checkpointer, ...)."""

    def __init__(self, postmaster: psutil.Process) -> None:
        self.postmaster = postmaster

    @classmethod
    async def of(cls, url: str) -> DatabaseServer | None:
        connection = await asyncpg.connect(url)
        try:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            postmaster = psutil.Process(backend).parent()  # asked while the backend lives
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None  # another machine's, or not ours to read
        finally:
            await connection.close()
        return cls(postmaster) if postmaster is not None else None

    def cpu_times(self) -> dict[int, float]:
        """Each of its processes' CPU time (user and system) so far, by pid."""
        times = {}
        for process in (self.postmaster, *self.postmaster.children()):
            try:
                times[process.pid] = cpu_seconds(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return times

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU seconds spent between two readings by the processes alive at the second: a
        process that started in between counts whole, one that ended (an autovacuum worker)
        takes its share with it. The pools are of fixed size, so backends stay."""
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def packages() -> str:
    found = []
    for name in (*PACKAGES, *OPTIONAL):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            if name not in OPTIONAL:
                found.append(f"{name} (missing)")
    return ", ".join(found)


def command() -> str:
    """The command as typed, give or take the interpreter's path."""
    return shlex.join(["python", "-m", "tests.bench", *sys.argv[1:]])


def describe(postgres: str, loader: str, load_before: str, load_after: str) -> list[str]:
    memory = psutil.virtual_memory().total / 2**30
    return [
        f"- CPU: {cpu_model()}, {cpus()}; {memory:.1f} GiB RAM",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); {packages()}",
        f"- PostgreSQL {postgres}",
        f"- Load generator: {loader}",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        f"- Command: `{command()}`",
    ]
