"""One bench run, start to end: the database, the targets, the rounds, the report.

For each worker count and round the targets (tests/bench/targets.py) are started together,
warmed up, loaded and stopped: every round measures new processes. Within a round, for each
connection count and workload, they are loaded one after the other, in an order that turns
with each round, so that a slow spell on the shared machine lands on all of them and on none
always first. Every run replays the same request file. A target whose accelerator refuses
to start (FAST_PATH=on on untested releases) is left out of the run, and the report says so
at its top.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson

from api.config import Settings
from api.tools import migrate
from api.tools.database import development_database
from api.tools.seed import SEED_PASSWORD, seed, seeded_rows
from tests.bench import machine, report, signin_flood, targets, telemetry
from tests.bench.loaders import Loader, LoadError, RunResult, choose
from tests.bench.requests_file import Request, write
from tests.bench.workloads import BY_NAME, Seeded, Workload


@dataclass(frozen=True)
class Options:
    duration: int
    rounds: int
    connections: tuple[int, ...]
    workers: tuple[int, ...]
    workloads: tuple[str, ...]
    warmup: int
    pool_size: int
    tokens: int
    loader: str
    servers: tuple[str, ...]
    reseed: bool
    users: int
    posts: int
    items: int


def say(message: str) -> None:
    """Progress, on stderr: the report alone goes to stdout."""
    print(message, file=sys.stderr, flush=True)


def prepare_database(url: str, options: Options) -> None:
    """Migrate, then seed unless the database already holds at least the rows asked for."""
    migrate.apply(url)
    rows = asyncio.run(seeded_rows(url))
    short = rows.user_rows < options.users or rows.post_rows < options.posts or rows.item_rows < options.items
    if short or options.reseed:
        why = "--reseed" if options.reseed else f"it holds {rows.user_rows:,} users, {rows.post_rows:,} posts"
        say(f"seeding {options.users:,} users, {options.posts:,} posts, {options.items:,} items ({why}):")
        asyncio.run(seed(url, options.users, options.posts, options.items, log=say))
    else:
        say(f"seeded database: {rows.user_rows:,} users, {rows.post_rows:,} posts, {rows.item_rows:,} items")


def send(base_url: str, request: Request, form: dict[str, str] | None = None) -> tuple[int, bytes]:
    headers = {}
    data = None
    if request.token:
        headers["Authorization"] = f"Bearer {request.token}"
    if request.body is not None:
        headers["Content-Type"] = "application/json"
        data = orjson.dumps(request.body)
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(form).encode()
    http_request = urllib.request.Request(base_url + request.path, data, headers, method=request.method)  # noqa: S310
    try:
        with urllib.request.urlopen(http_request, timeout=30) as response:  # noqa: S310  (our own http URL)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def sign_in(base_url: str, users: int, count: int) -> tuple[str, ...]:
    """Tokens for `count` seeded users spread over all of them, through the project's POST /auth/token."""
    tokens = []
    for n in range(count):
        login = f"user{1 + n * users // count}@example.com"
        status, body = send(base_url, Request("POST", "/auth/token"), {"username": login, "password": SEED_PASSWORD})
        if status != 200:
            raise SystemExit(
                f"signing in as {login} failed ({status} {body[:200]!r}): were these users made by "
                "`python -m api.tools.seed`? Run the bench with --reseed."
            )
        tokens.append(orjson.loads(body)["access_token"])
    return tuple(tokens)


def project_lacks(base_url: str, workload: Workload) -> str | None:
    """Why the project cannot serve this workload yet (its OpenAPI lacks a parameter), or None."""
    if workload.needs_parameter is None:
        return None
    path, parameter = workload.needs_parameter
    _, body = send(base_url, Request("GET", "/openapi.json"))
    operation = orjson.loads(body).get("paths", {}).get(path, {}).get("get", {})
    if parameter not in {p.get("name") for p in operation.get("parameters", [])}:
        return f"the project's GET {path} takes no `{parameter}` yet"
    return None


def smoke_test(running: list[targets.Running], workload: Workload, request: Request) -> str | None:
    """Send the workload's first request to each target; why one fails, or None."""
    for server in running:
        status, body = send(server.url, request)
        if not 200 <= status < 300:
            return f"{server.target.name} answered {status} to {request.method} {request.path}: {body[:300]!r}"
    return None


def measure(
    loader: Loader, server: targets.Running, requests: Path, connections: int, duration: int
) -> RunResult | None:
    try:
        return loader.run(server.port, requests, connections, duration)
    except LoadError as error:
        say(f"  load failed against {server.target.name}: {error}")
        return None


def run(options: Options) -> None:
    loader = choose(options.loader)
    load_before = machine.load_average()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    notes: list[str] = []
    warnings: list[str] = []  # what makes a figure mean something else than it says: on top
    chosen = targets.chosen(options.servers)
    fell_back: set[str] = set()
    measurements: list[report.Measurement] = []
    memory: list[report.WorkerMemory] = []
    workloads = []
    for name in options.workloads:
        workload = BY_NAME[name]
        if problem := workload.problem():
            notes.append(f"{workload.title}: skipped, {problem}.")
        else:
            workloads.append(workload)

    with development_database(Settings()) as url:
        prepare_database(url, options)
        postgres = asyncio.run(machine.postgres_version(url))
        database = asyncio.run(machine.DatabaseServer.of(url))
        if database is None:
            notes.append("The database server's processes are not readable from here: no database CPU figures.")
        env = targets.target_env(url, options.pool_size)
        for workers in options.workers:
            files: dict[str, Path] = {}
            for round_number in range(options.rounds):
                # Fresh processes for every round: two servers running the same code differ by
                # several per cent for as long as they live (where their memory and hash seeds
                # fell), so each round draws new ones and the medians average that out too.
                names = ", ".join(target.name for target in chosen)
                say(f"round {round_number + 1}: starting {names} with {workers} worker(s) each …")
                with targets.started(chosen, workers, env, log_dir) as (running, refused):
                    for refusal in refused:
                        say(f"  REFUSED: {refusal}; left out of this run")
                        warnings.append(f"**{refusal}**; it is left out of this run.")
                        chosen.remove(refusal.target)
                    startup = {server.target.name: server.resident_bytes() for server in running}
                    if not files:  # signed in once per worker count: tokens outlive the processes
                        workloads, files = _requests(running, workloads, options, log_dir / f"{workers}w", notes)
                    _warm_up(loader, running, files, options)
                    measurements += _round(loader, running, database, workers, round_number, workloads, files, options)
                    memory += _memory(running, workers, startup, notes)
                    warnings += _fallbacks(running, fell_back)
        say("telemetry's cost, in-process …")
        costs = telemetry.lines(url)
        say("a flood of bad sign-ins beside a point lookup …")
        costs += ["", *signin_flood.lines(url)]
    report_lines = _report(options, loader, postgres, load_before, measurements, memory, workloads, notes, warnings)
    print("\n".join([*report_lines, "", *costs, "", f"Server logs and request files: {log_dir}"]))


def _round(
    loader: Loader,
    running: list[targets.Running],
    database: machine.DatabaseServer | None,
    workers: int,
    round_number: int,
    workloads: list[Workload],
    files: dict[str, Path],
    options: Options,
) -> list[report.Measurement]:
    """Every connection count and workload once, the three targets back to back in an order
    that turns each round."""
    turn = round_number % len(running)
    order = running[turn:] + running[:turn]
    measured = []
    for connections in options.connections:
        for workload in workloads:
            for server in order:
                cpu_before = server.cpu_seconds()
                database_before = database.cpu_times() if database else {}
                result = measure(loader, server, files[workload.name], connections, options.duration)
                if result is None:
                    continue
                server_cpu = server.cpu_seconds() - cpu_before
                database_cpu = database.spent(database_before, database.cpu_times()) if database else None
                measured.append(
                    report.Measurement(
                        workers,
                        connections,
                        workload.title,
                        server.target.name,
                        round_number,
                        result,
                        server_cpu,
                        database_cpu,
                    )
                )
                database_us = measured[-1].database_cpu_us_per_request
                say(
                    f"  {workers}w r{round_number + 1}/{options.rounds} c{connections:<4} {workload.title:<26} "
                    f"{server.target.name:<18} {result.rps:7,.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
                    f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}  "
                    f"server CPU {measured[-1].cpu_us_per_request:5.0f} us/req  "
                    f"database CPU {'n/a' if database_us is None else f'{database_us:5.0f}'} us/req  "
                    f"(load generator {result.loader_share:.2f} cores)"
                )
    return measured


def _memory(
    running: list[targets.Running], workers: int, startup: dict[str, dict[int, int]], notes: list[str]
) -> list[report.WorkerMemory]:
    """Each worker's resident size now, beside its size after startup (the floors' too, for scale)."""
    samples = []
    for server in running:
        after = server.resident_bytes()
        for pid, size in startup[server.target.name].items():
            if pid in after:
                samples.append(report.WorkerMemory(workers, server.target.name, pid, size, after[pid]))
            else:
                notes.append(f"{server.target.name} worker {pid} ({workers} workers) ended during the bench.")
    return samples


def _fallbacks(running: list[targets.Running], warned: set[str]) -> list[str]:
    """A FAST_PATH=on target that served on stock FastAPI after all: a warning the first time."""
    found = []
    for server in running:
        if server.target.name not in warned and (line := server.fallback()) is not None:
            warned.add(server.target.name)
            found.append(f"**{server.target.name} (FAST_PATH=on) served on stock FastAPI**; its log: `{line}`")
            say(f"  WARNING: {found[-1]}")
    return found


def _requests(
    running: list[targets.Running], workloads: list[Workload], options: Options, directory: Path, notes: list[str]
) -> tuple[list[Workload], dict[str, Path]]:
    """Sign in through the project (the first project target running: stock, if the
    accelerator refused), write each workload's requests file, and keep the workloads every
    target serves."""
    project = next(server for server in running if server.target.is_project)
    seeded = Seeded(options.users, sign_in(project.url, options.users, options.tokens))
    directory.mkdir(exist_ok=True)
    kept, files = [], {}
    for workload in workloads:
        requests = workload.requests(seeded)
        problem = project_lacks(project.url, workload) or smoke_test(running, workload, requests[0])
        if problem:
            notes.append(f"{workload.title}: skipped, {problem}.")
            continue
        kept.append(workload)
        files[workload.name] = write(directory / f"{workload.name}.tsv", requests)
    return kept, files


def _warm_up(loader: Loader, running: list[targets.Running], files: dict[str, Path], options: Options) -> None:
    """Each target, each workload, once, unmeasured: pools full, caches warm, code paths hot."""
    if not options.warmup:
        return
    say(f"  warming up ({options.warmup} s per workload and target) …")
    for server in running:
        for requests in files.values():
            measure(loader, server, requests, max(options.connections), options.warmup)


def _loader_cores(measurements: list[report.Measurement]) -> str:
    shares = [m.result.loader_share for m in measurements]
    return f"{statistics.mean(shares):.2f} on average, {max(shares):.2f} at most" if shares else "none"


def _report(
    options: Options,
    loader: Loader,
    postgres: str,
    load_before: str,
    measurements: list[report.Measurement],
    memory: list[report.WorkerMemory],
    workloads: list[Workload],
    notes: list[str],
    warnings: list[str],
) -> list[str]:
    titles = [workload.title for workload in workloads]
    lines = ["## Bench", ""]
    if warnings:
        lines += [*(f"- {warning}" for warning in warnings), ""]
    lines += [
        *machine.describe(postgres, loader.name, load_before, machine.load_average()),
        f"- Targets: project = the service with FAST_PATH=on (the accelerator, api/fastpath/), stock = "
        f"FAST_PATH=off (stock FastAPI), both started as `make serve` starts them, on {' and '.join(options.servers)}; "
        "the FastAPI and Starlette floors (tests/bench/floors.py) on uvicorn.",
        f"- Per run: {options.duration} s; rounds: {options.rounds}; warm-up: {options.warmup} s per workload "
        f"and target; every round on new processes; figures are medians over the rounds, errors summed "
        "(errors / requests).",
        f"- Pool: POOL_MIN_SIZE = POOL_MAX_SIZE = {options.pool_size} per worker, for every target.",
        f"- The load generator used {_loader_cores(measurements)} of the machine's cores during the runs.",
        f"- Data: {options.users:,} users, {options.posts:,} posts, {options.items:,} items or more "
        f"(api/tools/seed.py); {options.tokens} bearer tokens for POST /items/.",
        "",
        "Side by side (uvicorn; ÷: ratio of medians; CPU: the workers' CPU time per request):",
        "",
        *report.side_by_side_table(measurements, titles),
    ]
    if servers := report.servers_table(measurements, titles):
        lines += ["", "The same app on each server:", "", *servers]
    lines += [
        "",
        "Per target (req/s range: lowest to highest round; DB CPU: the PostgreSQL server's processes):",
        "",
        *report.targets_table(measurements, titles),
        "",
        "Resident memory of each worker (psutil RSS), after startup and after its round's load; the bound "
        "applies to the project and stock, the floors are there for scale:",
        "",
        *report.memory_table(memory),
    ]
    if kinds := report.error_kinds(measurements):
        lines += ["", "Errors by kind:", "", *kinds]
    if notes:
        lines += ["", "Notes:", "", *(f"- {note}" for note in notes)]
    return lines
