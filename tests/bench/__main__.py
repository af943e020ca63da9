"""`python -m tests.bench`: parse the options, run the bench (tests/bench/runner.py)."""

from __future__ import annotations

import argparse
import importlib.util

from api.tools.seed import DEFAULT_ITEMS, DEFAULT_POSTS, DEFAULT_USERS
from tests.bench import __doc__ as BENCH_DOC
from tests.bench.runner import Options, run
from tests.bench.targets import SERVERS
from tests.bench.workloads import BY_NAME

# The default run: 2 worker counts × 5 rounds × 2 connection counts × 4 workloads × 4 targets
# (project, stock, two floors) × 2 s: about 15 minutes with start-ups and warm-ups on 2 cores;
# each further server (--servers) adds two targets, half as much again. Five short runs rather
# than three longer ones: on a shared machine a slow spell spoils a run, and the median of five
# outlasts two spoiled ones. --quick: one worker count, one round of 1 s (about a minute).
DEFAULTS = {"duration": 2, "rounds": 5, "warmup": 1, "workers": (1, 2), "connections": (32, 256)}
QUICK = {"duration": 1, "rounds": 1, "warmup": 1, "workers": (1,), "connections": (32, 256)}
POOL_SIZE = 8
TOKENS = 8


def _numbers(text: str) -> tuple[int, ...]:
    numbers = tuple(int(part) for part in text.split(","))
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive whole numbers")
    return numbers


def _servers(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",")))
    if unknown := [name for name in names if name not in SERVERS]:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; known: {', '.join(SERVERS)}")
    if "uvicorn" not in names:
        raise argparse.ArgumentTypeError("uvicorn is the reference every other server is compared with: name it too")
    if "granian" in names and importlib.util.find_spec("granian") is None:
        raise argparse.ArgumentTypeError("granian is not installed: pip install -e '.[granian]'")
    return ("uvicorn", *(name for name in names if name != "uvicorn"))


def _workloads(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    if unknown := [name for name in names if name not in BY_NAME]:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return names


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=BENCH_DOC, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a minute: 1 worker, 1 round of 1 s")
    parser.add_argument("--duration", type=int, help=f"seconds per run (default {DEFAULTS['duration']})")
    parser.add_argument(
        "--rounds", type=int, help=f"rounds; medians are taken over them (default {DEFAULTS['rounds']})"
    )
    parser.add_argument(
        "--warmup", type=int, help=f"unmeasured seconds per workload and target (default {DEFAULTS['warmup']})"
    )
    parser.add_argument("--connections", type=_numbers, help="comma-separated (default 32,256)")
    parser.add_argument("--workers", type=_numbers, help="worker counts, comma-separated (default 1,2)")
    parser.add_argument(
        "--workloads", type=_workloads, default=tuple(BY_NAME), help=f"of {','.join(BY_NAME)} (default all)"
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=POOL_SIZE,
        help=f"POOL_MIN_SIZE = POOL_MAX_SIZE per worker, for every target (default {POOL_SIZE})",
    )
    parser.add_argument(
        "--tokens", type=int, default=TOKENS, help=f"users signed in for POST /items/ (default {TOKENS})"
    )
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto", help="default: wrk if installed")
    parser.add_argument(
        "--servers",
        type=_servers,
        default=("uvicorn",),
        help=f"the project and stock on each of {','.join(SERVERS)}, side by side (default uvicorn; floors: uvicorn)",
    )
    parser.add_argument("--reseed", action="store_true", help="seed again even when the database holds enough rows")
    parser.add_argument(
        "--users", type=int, default=DEFAULT_USERS, help=f"seeded users expected (default {DEFAULT_USERS})"
    )
    parser.add_argument(
        "--posts", type=int, default=DEFAULT_POSTS, help=f"seeded posts expected (default {DEFAULT_POSTS})"
    )
    parser.add_argument(
        "--items", type=int, default=DEFAULT_ITEMS, help=f"seeded items expected (default {DEFAULT_ITEMS})"
    )
    args = parser.parse_args(argv)

    preset = QUICK if args.quick else DEFAULTS
    chosen = {key: value if (value := getattr(args, key)) is not None else preset[key] for key in preset}
    if chosen["duration"] < 1 or chosen["rounds"] < 1 or chosen["warmup"] < 0:
        parser.error("--duration and --rounds must be 1 or more, --warmup 0 or more")
    if args.users < 1 or args.tokens < 1 or args.pool_size < 1:
        parser.error("--users, --tokens and --pool-size must be 1 or more")
    return Options(
        **chosen,
        workloads=args.workloads,
        pool_size=args.pool_size,
        tokens=min(args.tokens, args.users),
        loader=args.loader,
        servers=args.servers,
        reseed=args.reseed,
        users=args.users,
        posts=args.posts,
        items=args.items,
    )


if __name__ == "__main__":
    run(parse())
