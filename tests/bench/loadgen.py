"""The load generator used when wrk is not installed: raw HTTP/1.1 over asyncio streams.

    python -m tests.bench.loadgen --port P --requests FILE --connections N --duration S

Opens N keep-alive connections, then for S seconds each sends the file's requests one after
another, waiting for each response (a closed loop, as wrk's). Prints one JSON line: requests
answered within the run, errors (status 400 or more, timeouts, broken connections), and the
latency percentiles from a histogram. Responses still in flight when the time is up are
dropped, as wrk drops them. It runs on uvloop and parses no more of a response than its
status and length, so one process outpaces the API; still, it shares the machine's cores
with what it measures, which is why the bench prefers wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.histogram import LatencyHistogram
from tests.bench.requests_file import read_raw

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0  # seconds, as the bench gives wrk (--timeout)
HEADER_END = b"\r\n\r\n"


@dataclass
class Tally:
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)
    answered: int = 0
    status_errors: int = 0
    timeouts: int = 0
    broken: int = 0  # connect, read or write failures


class Closed(Exception):
    """The server closed the connection, or said it would."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status and whether the connection stays open."""
    head = await reader.readuntil(HEADER_END)
    status = int(head[9:12])
    lowered = head.lower()
    start = lowered.find(b"\r\ncontent-length:")
    if start >= 0:
        start += len(b"\r\ncontent-length:")
        await reader.readexactly(int(lowered[start : lowered.index(b"\r\n", start)]))
    elif b"\r\ntransfer-encoding: chunked" in lowered:
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")  # the empty trailer
    return status, b"\r\nconnection: close" not in lowered


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, port)


async def _client(
    port: int,
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    requests: list[bytes],
    offset: int,
    tally: Tally,
) -> None:
    """One connection's closed loop, until cancelled; reconnects after an error."""
    reader, writer = connection
    index = offset
    clock = time.perf_counter_ns
    record = tally.histogram.record
    while True:
        request = requests[index]
        index = (index + 1) % len(requests)
        try:
            started = clock()
            writer.write(request)
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, keep_alive = await _read_response(reader)
            record(clock() - started)
            tally.answered += 1
            if status >= 400:
                tally.status_errors += 1
            if not keep_alive:
                raise Closed
        except TimeoutError:
            tally.timeouts += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            tally.broken += 1
        except Closed:
            pass
        else:
            continue
        writer.close()
        reader, writer = await _reconnect(port, tally)


async def _reconnect(port: int, tally: Tally) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    while True:
        try:
            return await _connect(port)
        except OSError:
            tally.broken += 1
            await asyncio.sleep(0.01)


async def run(port: int, requests: list[bytes], connections: int, duration: float) -> dict[str, object]:
    opened = await asyncio.gather(*(_connect(port) for _ in range(connections)))
    tally = Tally()
    stride = max(1, len(requests) // connections)
    started = time.perf_counter()
    cpu_started = time.process_time()
    clients = [
        asyncio.create_task(_client(port, connection, requests, (n * stride) % len(requests), tally))
        for n, connection in enumerate(opened)
    ]
    await asyncio.sleep(duration)
    for client in clients:
        client.cancel()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    for client in clients:
        with contextlib.suppress(asyncio.CancelledError):
            await client
    return {
        "requests": tally.answered,
        "seconds": elapsed,
        "cpu_seconds": cpu,  # this process's CPU time over the run, start-up excluded
        "errors": {"status": tally.status_errors, "timeout": tally.timeouts, "socket": tally.broken},
        "p50_us": tally.histogram.percentile(50),
        "p99_us": tally.histogram.percentile(99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=Path, required=True, help="the requests file (tests/bench/requests_file.py)")
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    args = parser.parse_args()
    requests = read_raw(args.requests, f"{HOST}:{args.port}")
    try:
        import uvloop  # uvicorn[standard] brings it; plain asyncio works too, slower

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(run(args.port, requests, args.connections, args.duration))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
