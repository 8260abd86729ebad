"""A latency histogram of bounded size: exact count, mean, min and max; percentiles within 1%.

A log file can hold millions of durations; keeping them all to sort for p95 would make the
analyzer's memory grow with the file. Buckets on a logarithmic scale (each 2% wider than the
last) cover microseconds to hours in about 1,500 buckets at most, and a percentile read from
them is within 1% of the exact one, which is finer than any latency decision needs.
"""

from __future__ import annotations

import math

__all__ = ["LatencyHistogram"]

_GROWTH = 1.02
_LOG_GROWTH = math.log(_GROWTH)


class LatencyHistogram:
    """Counts of non-negative values in logarithmic buckets."""

    __slots__ = ("_buckets", "count", "maximum", "minimum", "total", "zeros")

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.zeros = 0
        self.total = 0.0
        self.minimum = math.inf
        self.maximum = 0.0

    def add(self, value: float) -> None:
        """Count one value (negative values are ignored)."""
        if value < 0 or value != value:
            return
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        if value == 0:
            self.zeros += 1
            return
        index = math.floor(math.log(value) / _LOG_GROWTH)
        self._buckets[index] = self._buckets.get(index, 0) + 1

    def merge(self, other: LatencyHistogram) -> None:
        """Count ``other``'s values too (the buckets line up: same scale)."""
        self.count += other.count
        self.zeros += other.zeros
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        for index, count in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + count

    @property
    def mean(self) -> float:
        """The exact mean (0 when empty)."""
        return self.total / self.count if self.count else 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100), within 1% of the exact value; 0 when empty."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(q / 100 * self.count))
        if rank <= self.zeros:
            return 0.0
        seen = self.zeros
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                # the bucket's geometric middle, never outside what was seen
                middle: float = _GROWTH ** (index + 0.5)
                return min(max(middle, self.minimum), self.maximum)
        return self.maximum
