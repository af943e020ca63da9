"""A latency histogram with log-spaced buckets: fixed memory however long the run, and any
percentile within 1% of the true value, which is finer than a shared machine's noise."""

from __future__ import annotations

import math

GROWTH = 1.01  # each bucket 1% wider than the one before
BUCKETS = 2000  # 1 µs to 1.01**2000 µs (over 100 s): longer than any timeout
_LOG_GROWTH = math.log(GROWTH)


class LatencyHistogram:
    def __init__(self) -> None:
        self.counts = [0] * BUCKETS
        self.total = 0

    def record(self, nanoseconds: int) -> None:
        microseconds = nanoseconds / 1000
        index = int(math.log(microseconds) / _LOG_GROWTH) if microseconds > 1 else 0
        self.counts[min(index, BUCKETS - 1)] += 1
        self.total += 1

    def percentile(self, percent: float) -> float:
        """The latency in microseconds below which `percent` of the recorded ones fall (0 if none)."""
        if not self.total:
            return 0.0
        rank = max(1, math.ceil(self.total * percent / 100))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return GROWTH ** (index + 0.5)  # the bucket's geometric middle
        return GROWTH ** (BUCKETS - 0.5)
