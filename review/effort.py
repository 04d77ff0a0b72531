"""The review tax, measured: per decision kind, how many and how long a reviewer spent on
each item (page open to decision, ReviewDecision.seconds_open), with hand fixes counted
apart from approvals (a mask correction is its own decision, review.mask_edit).

Over decisions made in the range (decided_at), all products: the time is the reviewer's,
spent when they decided. Computed per day (or hour) by `effort_per_period`, and a range
composed from its periods by `compose_effort`: the dashboard stores the periods with its
own (insights.daycache), the median and p90 come from merged duration sketches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Case, Count, F, Func, IntegerField, Q, Sum, When
from django.db.models.functions import TruncDate, TruncHour

from catalog.models import ImageVersion
from lightbox import sketch as durations
from lightbox.sketch import Sketch, bucket_sql
from review.models import ReviewAction, ReviewDecision

# One period's effort: action → [decisions, seconds in all, hand fixes, one-click fixes, sketch]
PeriodEffort = dict[str, list[Any]]


@dataclass(frozen=True)
class ActionEffort:
    action: str
    label: str
    decisions: int
    median_seconds: float | None
    p90_seconds: float | None
    total_seconds: float


@dataclass(frozen=True)
class ReviewEffort:
    actions: list[ActionEffort]
    hand_fixes: int  # masks touched up with the brush
    model_fixes: int  # masks saved after one-click fixes only

    @property
    def total_hours(self) -> float:
        return sum(a.total_seconds for a in self.actions) / 3600


class _Bucket(Func):
    template = bucket_sql("%(expressions)s")
    output_field = IntegerField()


def effort_per_period(start: datetime, end: datetime, per: str = "day") -> dict[Any, PeriodEffort]:
    """Decisions made in [start, end), per day (or clock hour, `per="hour"`) of decided_at and
    action: counts, seconds and their sketch. Periods without decisions are left out."""
    trunc = TruncHour if per == "hour" else TruncDate
    found: dict[Any, PeriodEffort] = defaultdict(dict)
    timed = Q(seconds_open__isnull=False)
    values: dict[tuple[Any, str], list[float]] = defaultdict(list)
    for period, action, bucket, n, total, hand, fix, seconds in (
        ReviewDecision.objects.filter(decided_at__gte=start, decided_at__lt=end)
        .values(
            "action", period=trunc("decided_at"), bucket=Case(When(timed, then=_Bucket(F("seconds_open"))))
        )
        .annotate(
            n=Count("*"),
            total=Sum("seconds_open", default=0.0),
            hand=Count("pk", filter=Q(options__mask_source=ImageVersion.MaskSource.HAND)),
            fix=Count("pk", filter=Q(options__mask_source=ImageVersion.MaskSource.MODEL_FIX)),
            seconds=ArrayAgg("seconds_open", filter=timed, default=[]),
        )
        .order_by()
        .values_list("period", "action", "bucket", "n", "total", "hand", "fix", "seconds")
    ):
        entry = found[period].setdefault(action, [0, 0.0, 0, 0, Sketch()])
        entry[0] += n
        entry[1] += total or 0.0
        entry[2] += hand
        entry[3] += fix
        if bucket is not None:  # no seconds_open: counted, not timed
            entry[4].buckets[bucket] += len(seconds)
            values[(period, action)] += seconds
    for (period, action), seconds in values.items():
        sketch = found[period][action][4]
        sketch.exact = sorted(seconds) if sketch.count <= durations.EXACT_UP_TO else None
    return {
        period: {a: [*e[:4], e[4].as_json()] for a, e in actions.items()} for period, actions in found.items()
    }


def merge_effort(periods: Iterable[PeriodEffort]) -> PeriodEffort:
    """Several periods' effort as one period's."""
    counts: dict[str, list[Any]] = {}
    sketches: dict[str, list[Sketch]] = defaultdict(list)
    for period in periods:
        for action, (n, total, hand, fix, sketch) in period.items():
            entry = counts.setdefault(action, [0, 0.0, 0, 0])
            entry[0] += n
            entry[1] += total
            entry[2] += hand
            entry[3] += fix
            sketches[action].append(Sketch.from_json(sketch))
    return {a: [*entry, Sketch.merged(sketches[a]).as_json()] for a, entry in counts.items()}


def compose_effort(periods: Iterable[PeriodEffort]) -> ReviewEffort:
    """The range's effort from its periods'."""
    merged = merge_effort(periods)
    actions = []
    for action in ReviewAction:
        n, total, _, _, sketch = merged.get(action.value, [0, 0.0, 0, 0, None])
        timed = Sketch.from_json(sketch)
        actions.append(
            ActionEffort(action.value, action.label, n, timed.quantile(0.5), timed.quantile(0.9), total)
        )
    _, _, hand, fix, _ = merged.get(ReviewAction.CORRECT, [0, 0.0, 0, 0, None])
    return ReviewEffort(actions, hand_fixes=hand, model_fixes=fix)


def review_effort(start: datetime, end: datetime) -> ReviewEffort:
    """Decisions made in [start, end), composed from their days computed now."""
    return compose_effort(effort_per_period(start, end).values())
