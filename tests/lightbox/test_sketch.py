"""The duration sketch: percentiles exact while few, within its bucket error past that, and
merging days is the sketch of all their durations."""

from __future__ import annotations

import random

import pytest

from lightbox import sketch
from lightbox.sketch import RELATIVE_ERROR, Sketch, bucket_of, bucket_value


def percentile_cont(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_a_bucket_stands_for_its_values_within_the_stated_error():
    for seconds in (0.5, 1.0, 59.9, 60.0, 3600.0, 86400.0 * 3, 12345.678):
        assert abs(bucket_value(bucket_of(seconds)) - seconds) <= RELATIVE_ERROR * seconds
    assert RELATIVE_ERROR < 0.01


def test_few_durations_give_exact_percentiles():
    values = [60.0, 120.0, 300.0, 3600.0]
    summary = Sketch.of(values)
    assert [summary.quantile(q) for q in (0.5, 0.9, 0.95)] == pytest.approx(
        [210.0, 2610.0, 3105.0], rel=1e-12
    )


def test_many_durations_give_percentiles_within_the_bucket_error():
    rng = random.Random(18)  # noqa: S311 - reproducible test data
    values = [rng.lognormvariate(5, 1.5) for _ in range(5000)]
    summary = Sketch.of(values)
    assert summary.exact is None, "past EXACT_UP_TO only the buckets are kept"
    for fraction in (0.5, 0.9, 0.95, 0.99):
        exact = percentile_cont(values, fraction)
        assert summary.quantile(fraction) == pytest.approx(exact, rel=RELATIVE_ERROR)


def test_merged_days_are_the_sketch_of_all_their_durations():
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    days = [[rng.uniform(5, 200_000) for _ in range(rng.randint(0, 300))] for _ in range(20)]
    merged = Sketch.merged(Sketch.of(day) for day in days)
    assert merged.buckets == Sketch.of([v for day in days for v in day]).buckets
    everything = [v for day in days for v in day]
    assert merged.quantile(0.9) == pytest.approx(percentile_cont(everything, 0.9), rel=RELATIVE_ERROR)


def test_days_that_all_kept_their_durations_merge_exactly(monkeypatch):
    monkeypatch.setattr(sketch, "EXACT_UP_TO", 3)
    merged = Sketch.merged([Sketch.of([1.0, 2.0]), Sketch.of([3.0, 4.0, 5.0])])
    assert merged.quantile(0.5) == 3.0
    with_a_big_day = Sketch.merged([Sketch.of([1.0, 2.0]), Sketch.of([3.0, 4.0, 5.0, 6.0])])
    assert with_a_big_day.exact is None
    assert with_a_big_day.quantile(0.5) == pytest.approx(3.5, rel=RELATIVE_ERROR)


def test_an_empty_sketch_has_no_percentile_and_survives_storage():
    assert Sketch().quantile(0.5) is None
    summary = Sketch.of([1.5, 2.5, 1e6])
    assert Sketch.from_json(summary.as_json()) == summary
    monkeypatched = Sketch.of([float(n) for n in range(1, 500)])
    assert Sketch.from_json(monkeypatched.as_json()) == monkeypatched
