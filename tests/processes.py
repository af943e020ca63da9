"""The service run as a process of its own, for the tests that need a real server."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

DEADLINE = 30.0  # seconds any step may take on a busy machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def started(module: str, *arguments: str, **settings: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`python -m module` on a free port, its output collected; killed if a test leaves it running."""
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "INFO", **settings}
    command = [sys.executable, "-m", module, *arguments]
    if module == "uvicorn":
        command += ["--port", str(port)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        try:
            yield process, f"http://127.0.0.1:{port}"
        finally:
            if process.poll() is None:
                process.kill()


async def until_answered(client: httpx.AsyncClient, url: str, process: subprocess.Popen) -> httpx.Response:
    """The first answer from url once the process listens (it takes a moment to start)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            return await client.get(url)
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    pytest.fail("the service did not come up")


async def until_logged(process: subprocess.Popen, text: str, times: int = 1) -> str:
    """The process's output up to the line where `text` appears for the `times`th time: a
    server with several workers is ready when each has said so, not when one answers."""

    def read() -> str:
        lines: list[str] = []
        for line in iter(process.stdout.readline, b""):
            lines.append(line.decode())
            if text in lines[-1] and "".join(lines).count(text) >= times:
                break
        return "".join(lines)

    output = await asyncio.wait_for(asyncio.to_thread(read), DEADLINE)
    assert output.count(text) >= times, output
    return output
