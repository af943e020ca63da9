"""HAProxy in front of the service's processes, run on tests/haproxy.cfg (the configuration
the README shows): for tests/test_balancer.py and the fleet bench (tests/bench/fleet.py)."""

import asyncio
import csv
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.processes import DEADLINE, free_port, until_answered

CONFIG = Path(__file__).parent / "haproxy.cfg"
SERVERS = ("api1", "api2")  # as named in the config


def haproxy_binary() -> str | None:
    """Debian's haproxy (/usr/sbin), or None when it is not installed."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


class HAProxy:
    """HAProxy run on tests/haproxy.cfg, on a port of its own, in front of the given ports."""

    def __init__(self, base_dir: Path, ports: list[int]) -> None:
        self.port = free_port()
        self.socket = base_dir / "haproxy.sock"
        self.log = base_dir / "haproxy.log"
        env = {
            **os.environ,
            "API_LISTEN": f"127.0.0.1:{self.port}",
            "HAPROXY_SOCKET": str(self.socket),
            **{f"API_SERVER_{n}": f"127.0.0.1:{port}" for n, port in enumerate(ports, 1)},
        }
        binary = haproxy_binary()
        assert binary is not None
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [binary, "-db", "-f", str(CONFIG)], env=env, stdout=output, stderr=subprocess.STDOUT
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def states(self) -> dict[str, str]:
        """Each server's status as HAProxy sees it (UP, DOWN, ...), from its runtime API."""
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(DEADLINE)
            connection.connect(str(self.socket))
            connection.sendall(b"show stat\n")
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        rows = csv.DictReader(answer.decode().removeprefix("# ").splitlines())
        return {row["svname"]: row["status"].split()[0] for row in rows if row["pxname"] == "api"}

    async def until(self, server: str, status: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if self.states().get(server) == status:
                    return
            except OSError:
                pass  # not listening yet
            await asyncio.sleep(0.05)
        pytest.fail(f"HAProxy did not see {server} {status}: {self.states()}")

    async def admit(self, server: str, process: subprocess.Popen, port: int) -> None:
        """Once the process on `port` answers /health/ready itself, until HAProxy sees it UP."""
        await _answering(process, port)
        await self.until(server, "UP")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=DEADLINE)


@contextmanager
def haproxy(base_dir: Path, ports: list[int]) -> Iterator[HAProxy]:
    balancer = HAProxy(base_dir, ports)
    try:
        yield balancer
    finally:
        balancer.close()


async def _answering(process: subprocess.Popen, port: int) -> None:
    async with httpx.AsyncClient(timeout=DEADLINE) as direct:
        await until_answered(direct, f"http://127.0.0.1:{port}/health/ready", process)


async def in_front(stack: ExitStack, base_dir: Path, processes: list[subprocess.Popen], ports: list[int]) -> HAProxy:
    """HAProxy started in front of the processes once each answers, and back once it sees them all UP."""
    for process, port in zip(processes, ports, strict=True):
        await _answering(process, port)
    balancer = stack.enter_context(haproxy(base_dir, ports))
    for name in SERVERS:
        await balancer.until(name, "UP")
    return balancer
