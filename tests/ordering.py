"""The longest test files first, so that make test's workers (pytest-xdist) finish together
instead of one of them running a long file alone at the end.

Each file's time in the last run is kept in pytest's cache (.pytest_cache). Files it does not
know keep their place after the known ones; a fresh clone runs in collection order. Tests
within a file keep their order. Both workers read the same cache, so they collect the same
order, which pytest-xdist requires; only the controller writes it."""

from __future__ import annotations

from collections import defaultdict

import pytest

CACHE_KEY = "api/seconds-per-file"

_measured: defaultdict[str, float] = defaultdict(float)


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _last_run(config: pytest.Config) -> dict[str, float]:
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    return cache.get(CACHE_KEY, {}) if cache is not None else {}


def longest_files_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    last = _last_run(config)
    items.sort(key=lambda item: -last.get(_file(item.nodeid), 0.0))  # a stable sort: files stay whole


def count_time(report: pytest.TestReport) -> None:
    _measured[_file(report.nodeid)] += report.duration  # setup, call and teardown


def keep_times(config: pytest.Config) -> None:
    cache = getattr(config, "cache", None)
    if cache is not None and not hasattr(config, "workerinput") and _measured:
        cache.set(CACHE_KEY, {**_last_run(config), **_measured})
