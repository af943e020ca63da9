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
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.processes import DEADLINE, free_port

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
