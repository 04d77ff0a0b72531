"""A mergeable summary of durations, so that a range's percentiles come from its days
(insights.kpis, review.effort).

Percentiles do not add up over days; counts per bucket do. Each day keeps its durations as
counts in logarithmic buckets, bucket i holding [GAMMA**i, GAMMA**(i + 1)) seconds; a range
adds its days' counts and reads a percentile off the merged buckets, each bucket standing for
the value with the least relative error over it. With GAMMA = 1.02 a percentile read from
buckets is within RELATIVE_ERROR (0.99 %) of the exact one (percentile_cont's interpolation
between two ranks included: both ranks are within it, so is any value between them).

A day with few durations also keeps them exactly (up to EXACT_UP_TO), and a range whose
days all did gives exact percentiles: a small shop, or a narrow filter, sees the same
figures PostgreSQL's percentile_cont gives.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GAMMA = 1.02
LOG_GAMMA = math.log(GAMMA)
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)
# Durations below a millisecond share the lowest bucket (nothing on the dashboard is that quick).
SMALLEST = 0.001
EXACT_UP_TO = 100


def bucket_sql(seconds_sql: str) -> str:
    """The bucket of a duration in SQL, as bucket_of computes it."""
    return f"floor(ln(greatest({seconds_sql}, {SMALLEST})) / {LOG_GAMMA!r})::int"


def bucket_of(seconds: float) -> int:
    return math.floor(math.log(max(seconds, SMALLEST)) / LOG_GAMMA)


def bucket_value(bucket: int) -> float:
    """The value a bucket stands for: its relative error is at most RELATIVE_ERROR."""
    return 2 * GAMMA ** (bucket + 1) / (GAMMA + 1)


@dataclass
class Sketch:
    """Durations as bucket counts, and the durations themselves while there are few."""

    buckets: Counter[int] = field(default_factory=Counter)
    exact: list[float] | None = field(default_factory=list)  # None once past EXACT_UP_TO

    @property
    def count(self) -> int:
        return sum(self.buckets.values())

    @classmethod
    def of(cls, values: Iterable[float]) -> Sketch:
        sketch = cls()
        for value in values:
            sketch.buckets[bucket_of(value)] += 1
        sketch.exact = sorted(values) if sketch.count <= EXACT_UP_TO else None
        return sketch

    @classmethod
    def merged(cls, sketches: Iterable[Sketch]) -> Sketch:
        total = cls()
        for sketch in sketches:
            total.buckets.update(sketch.buckets)
            if total.exact is not None and sketch.exact is not None:
                total.exact += sketch.exact
            else:
                total.exact = None
        if total.exact is not None:
            total.exact.sort()
        return total

    def quantile(self, fraction: float) -> float | None:
        """percentile_cont(fraction): exact when the durations are, else within RELATIVE_ERROR."""
        n = self.count
        if n == 0:
            return None
        position = fraction * (n - 1)
        low, high = math.floor(position), math.ceil(position)
        at_low, at_high = self._at_rank(low), self._at_rank(high)
        return at_low + (at_high - at_low) * (position - low)

    def _at_rank(self, rank: int) -> float:
        if self.exact is not None:
            return self.exact[rank]
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if rank < seen:
                return bucket_value(bucket)
        raise IndexError(rank)

    def as_json(self) -> dict[str, Any]:
        return {"b": {str(k): v for k, v in self.buckets.items() if v}, "x": self.exact}

    @classmethod
    def from_json(cls, payload: dict[str, Any] | None) -> Sketch:
        if not payload:
            return cls()
        buckets: Counter[int] = Counter()
        dict.update(buckets, zip(map(int, payload["b"]), payload["b"].values(), strict=True))
        return cls(buckets, payload["x"])
