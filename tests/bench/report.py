"""The figures: medians over rounds, the project's and stock's ratios to the floors, the same
app on each server, resident memory.

The first table is the one the README quotes: per workload, the project on its accelerator
(FAST_PATH=on), stock FastAPI (FAST_PATH=off) and both floors, side by side, with the ratios
that say what the accelerator buys (project ÷ stock) and where each stands against the
FastAPI floor. The others hold what it leaves out: each target's range over the rounds, p50,
p99, the database's CPU and errors, and, when the run has more than one server, the same app
on each.

Medians, because the machine is shared: one run that a neighbour's burst slowed should not
move the figure. The range of requests/s over the rounds is printed beside each median so
that the noise is visible. Errors are summed over every round, not taken as a median: one
error anywhere is worth seeing. A ratio is of medians.

CPU µs/req is the target's workers' CPU time (user and system) over a run divided by the
requests answered in it. It is the steadiest figure here: a neighbour's burst slows a run,
but barely changes what a request costs the server, and on a CPU-bound box that cost is
what sets requests/s. DB CPU µs/req is the same for the PostgreSQL server's processes
(backends, WAL writer, checkpointer), when it runs on this machine: the database shares the
cores, so a request that costs it more leaves less for everyone.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tests.bench.loaders import RunResult
from tests.bench.targets import FASTAPI_FLOOR, PROJECT, SERVERS, STARLETTE_FLOOR, STOCK, chosen, project

MEMORY_LIMIT = 1.2  # the bound: after its load, at most 1.2 × the size after startup
MIB = 2**20


@dataclass(frozen=True)
class Measurement:
    workers: int
    connections: int
    workload: str
    target: str
    round: int
    result: RunResult
    server_cpu: float = 0.0  # CPU seconds the target's workers spent during the run
    database_cpu: float | None = None  # CPU seconds the PostgreSQL server spent, when readable

    @property
    def cpu_us_per_request(self) -> float:
        return self._us_per_request(self.server_cpu) or 0.0

    @property
    def database_cpu_us_per_request(self) -> float | None:
        return self._us_per_request(self.database_cpu)

    def _us_per_request(self, seconds: float | None) -> float | None:
        if seconds is None or not self.result.requests:
            return None
        return 1e6 * seconds / self.result.requests


@dataclass(frozen=True)
class WorkerMemory:
    workers: int
    target: str
    pid: int
    after_startup: int
    after_bench: int

    @property
    def ratio(self) -> float:
        return self.after_bench / self.after_startup


@dataclass(frozen=True)
class Summary:
    rps: float
    rps_low: float
    rps_high: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    database_cpu_us: float | None
    errors: int
    requests: int
    rounds: int

    @classmethod
    def of(cls, measured: Sequence[Measurement]) -> Summary:
        results = [m.result for m in measured]
        rates = [result.rps for result in results]
        return cls(
            rps=statistics.median(rates),
            rps_low=min(rates),
            rps_high=max(rates),
            p50_ms=statistics.median(result.p50_ms for result in results),
            p99_ms=statistics.median(result.p99_ms for result in results),
            cpu_us=statistics.median(m.cpu_us_per_request for m in measured),
            database_cpu_us=_median_or_none([m.database_cpu_us_per_request for m in measured]),
            errors=sum(result.errors for result in results),
            requests=sum(result.requests for result in results),
            rounds=len(results),
        )


def _median_or_none(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def summarize(measurements: Iterable[Measurement]) -> dict[tuple[int, int, str, str], Summary]:
    groups: dict[tuple[int, int, str, str], list[Measurement]] = defaultdict(list)
    for m in measurements:
        groups[(m.workers, m.connections, m.workload, m.target)].append(m)
    return {key: Summary.of(results) for key, results in groups.items()}


def _ratio(numerator: float | None, denominator: float | None) -> str:
    return f"{numerator / denominator:.2f}" if numerator is not None and denominator else "n/a"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _rps(summary: Summary | None) -> str:
    return "n/a" if summary is None else f"{summary.rps:,.0f}"


def _cpu(summary: Summary | None) -> str:
    return "n/a" if summary is None else f"{summary.cpu_us:,.0f}"


def _p99(summary: Summary | None) -> str:
    return "n/a" if summary is None else f"{summary.p99_ms:.1f}"


def _of(summary: Summary | None, field: str) -> float | None:
    return None if summary is None else getattr(summary, field)


def _cells(summaries: dict[tuple[int, int, str, str], Summary], workloads: Sequence[str]) -> list[tuple[int, int, str]]:
    """(workers, connections, workload) in the order of the report: workers, connections, the workloads' order."""
    measured = {(w, c) for w, c, _, _ in summaries}
    return [(w, c, workload) for w, c in sorted(measured) for workload in workloads]


SIDE_BY_SIDE = (
    "workers",
    "conns",
    "workload",
    "project req/s",
    "stock req/s",
    "FastAPI floor",
    "Starlette floor",
    "project ÷ FastAPI",
    "stock ÷ FastAPI",
    "project ÷ stock",
    "p99 ÷ FastAPI project / stock",
    "CPU µs/req project / stock / FastAPI / Starlette",
)


def side_by_side_table(measurements: Sequence[Measurement], workloads: Sequence[str]) -> list[str]:
    """One row per workers, connections and workload: the project (accelerated), stock and the
    floors, all on uvicorn; requests/s, the ratios to the FastAPI floor and to stock, p99 and CPU."""
    summaries = summarize(measurements)
    rows = []
    for workers, connections, workload in _cells(summaries, workloads):
        accelerated, stock, fastapi, starlette = (
            summaries.get((workers, connections, workload, target.name))
            for target in (PROJECT, STOCK, FASTAPI_FLOOR, STARLETTE_FLOOR)
        )
        if accelerated is stock is fastapi is starlette is None:
            continue
        rows.append(
            [
                str(workers),
                str(connections),
                workload,
                _rps(accelerated),
                _rps(stock),
                _rps(fastapi),
                _rps(starlette),
                _ratio(_of(accelerated, "rps"), _of(fastapi, "rps")),
                _ratio(_of(stock, "rps"), _of(fastapi, "rps")),
                _ratio(_of(accelerated, "rps"), _of(stock, "rps")),
                f"{_ratio(_of(accelerated, 'p99_ms'), _of(fastapi, 'p99_ms'))} / "
                f"{_ratio(_of(stock, 'p99_ms'), _of(fastapi, 'p99_ms'))}",
                " / ".join(_cpu(summary) for summary in (accelerated, stock, fastapi, starlette)),
            ]
        )
    return _table(SIDE_BY_SIDE, rows)


def servers_table(measurements: Sequence[Measurement], workloads: Sequence[str]) -> list[str]:
    """With more than one server in the run: per workload, the project and stock on uvicorn and
    on each other server, and each other's ratio to uvicorn. Empty with uvicorn alone."""
    summaries = summarize(measurements)
    names = {m.target for m in measurements}
    others = [s for s in SERVERS[1:] if {project("on", s).name, project("off", s).name} & names]
    if not others:
        return []
    servers = ["uvicorn", *others]
    header = [
        "workers",
        "conns",
        "workload",
        "app",
        "uvicorn req/s",
        *(column for server in others for column in (f"{server} req/s", f"{server} ÷ uvicorn")),
        f"p99 ms {' / '.join(servers)}",
        f"CPU µs/req {' / '.join(servers)}",
    ]
    rows = []
    for workers, connections, workload in _cells(summaries, workloads):
        for fast_path, app in (("on", "project"), ("off", "stock")):
            on = [summaries.get((workers, connections, workload, project(fast_path, s).name)) for s in servers]
            if all(summary is None for summary in on):
                continue
            reference = _of(on[0], "rps")
            rows.append(
                [
                    str(workers),
                    str(connections),
                    workload,
                    app,
                    _rps(on[0]),
                    *(cell for summary in on[1:] for cell in (_rps(summary), _ratio(_of(summary, "rps"), reference))),
                    " / ".join(_p99(summary) for summary in on),
                    " / ".join(_cpu(summary) for summary in on),
                ]
            )
    return _table(header, rows)


TARGETS = (
    "workers",
    "conns",
    "workload",
    "target",
    "req/s",
    "req/s range",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "DB CPU µs/req",
    "errors",
)


def targets_table(measurements: Sequence[Measurement], workloads: Sequence[str]) -> list[str]:
    """One row per workers, connections, workload and target: each one's own figures."""
    summaries = summarize(measurements)
    order = [target.name for target in chosen(SERVERS)]
    rows = []
    for workers, connections, workload in _cells(summaries, workloads):
        for target in order:
            summary = summaries.get((workers, connections, workload, target))
            if summary is None:
                continue
            rows.append(
                [
                    str(workers),
                    str(connections),
                    workload,
                    target,
                    f"{summary.rps:,.0f}",
                    f"{summary.rps_low:,.0f}–{summary.rps_high:,.0f}",
                    f"{summary.p50_ms:.1f}",
                    f"{summary.p99_ms:.1f}",
                    f"{summary.cpu_us:,.0f}",
                    "n/a" if summary.database_cpu_us is None else f"{summary.database_cpu_us:,.0f}",
                    f"{summary.errors:,} / {summary.requests:,}",
                ]
            )
    return _table(TARGETS, rows)


def memory_table(samples: Sequence[WorkerMemory]) -> list[str]:
    """Per worker count and target, over every worker of every round's processes: the median
    sizes, and the largest growth, which the bound applies to."""
    groups: dict[tuple[int, str], list[WorkerMemory]] = defaultdict(list)
    for sample in samples:
        groups[(sample.workers, sample.target)].append(sample)
    lines = [
        "| workers | target | worker processes | RSS after startup MiB (median) | RSS after its round MiB (median) "
        f"| largest after ÷ startup | within {MEMORY_LIMIT}× |",
        "|---|---|---|---|---|---|---|",
    ]
    for (workers, target), group in sorted(groups.items(), key=lambda pair: pair[0][0]):
        largest = max(sample.ratio for sample in group)
        startup = statistics.median(sample.after_startup for sample in group) / MIB
        after = statistics.median(sample.after_bench for sample in group) / MIB
        within = "yes" if largest <= MEMORY_LIMIT else "NO"
        lines.append(
            f"| {workers} | {target} | {len(group)} | {startup:.1f} | {after:.1f} | {largest:.2f} | {within} |"
        )
    return lines


def error_kinds(measurements: Sequence[Measurement]) -> list[str]:
    """Which kinds of error, where any occurred: status 400 or more, timeouts, socket errors."""
    totals: dict[tuple[int, int, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in measurements:
        for kind, count in m.result.error_kinds.items():
            if count:
                totals[(m.workers, m.connections, m.workload, m.target)][kind] += count
    return [
        f"- {workers} worker(s), {connections} connections, {workload}, {target}: "
        + ", ".join(f"{count:,} {kind}" for kind, count in sorted(kinds.items()))
        for (workers, connections, workload, target), kinds in sorted(totals.items())
    ]
