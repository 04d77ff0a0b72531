"""The dashboard's additive figures per day, past whole days cached in insights.models.DashboardDay.

Most of the dashboard adds up over days: counts of versions scored, flagged and decided,
score buckets, flag reasons, compute cost, first-pass compliance and blocked channels,
publications per day and each day's median time to publication. A range is then its
cached whole past days plus the rest (the partial first day of "30 days", today, days not
cached yet) computed live with one grouped query per figure. What does not add up stays
live in insights.dashboard: percentiles over the range, status counts, volume tiers and
hourly throughput.

Only days that ended before the computation started are stored, keyed by the filters and
the time zone (days are local). insights.signals deletes the days a change touches, in the
change's transaction. Bulk updates that bypass the ORM's signals (a `QuerySet.update` of
timestamps, scores or compute seconds, raw SQL) are not seen: a cached day older than
MAX_AGE is recomputed, which bounds how stale such a day can be. The same bound covers a
load that reads a day just before a change commits and stores it just after the change
deleted it (READ COMMITTED), and a source moved to another upload batch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Least, TruncDate
from django.utils import timezone

from catalog.models import MarketplaceProfile, Rendition, ReviewAction, ReviewDecision
from catalog.reasons import count_reason_codes
from insights import kpis
from insights.models import DashboardDay

# A cached day is trusted this long; then it is computed again (see the module docstring).
MAX_AGE = timedelta(hours=24)


@dataclass
class DayFigures:
    """One day's additive figures; the JSON payload of a DashboardDay."""

    published: int = 0
    median_seconds: float | None = None
    cost: list[float] | None = None  # versions, cost, cpu seconds, gpu seconds; None: no finished work
    buckets: list[list[int | None]] = field(default_factory=list)  # [bucket, versions, went to review]
    decisions: dict[str, int] = field(default_factory=dict)  # action → decisions
    reasons: dict[str, int] = field(default_factory=dict)  # code → versions
    # profile id → [first attempts, passed, blocked] (days cached before blocked channels: two)
    compliance: dict[str, list[int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> DayFigures:
        return cls(**payload)


@dataclass(frozen=True)
class RangeFigures:
    """The additive KPIs of a range, in the shapes insights.kpis gives them."""

    ttp_daily: list[kpis.DailyTimeToPublication]
    cost_days: list[kpis.DailyCost]
    scored: kpis.ScoredBreakdown
    reasons: list[tuple[str, int]]
    compliance: list[kpis.ProfileCompliance]


def filters_key(filters: kpis.Filters) -> str:
    """The cache key of a set of filters; the time zone is in it because days are local."""
    return json.dumps(
        {
            "brand": filters.brand,
            "category": filters.category,
            "batch": None if filters.batch is None else str(filters.batch),
            "profile": filters.profile,
            "tz": timezone.get_current_timezone_name(),
        },
        sort_keys=True,
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def range_figures(start: datetime, end: datetime, filters: kpis.Filters) -> RangeFigures:
    """The range's additive figures: cached days read, the others computed (and the whole past
    ones stored). Run inside kpis.analytics(), like the rest of the page."""
    now = timezone.now()
    days = kpis._days(start, end)
    key = filters_key(filters)
    cacheable = {
        day for day in days if _midnight(day) >= start and _midnight(day + timedelta(days=1)) <= min(end, now)
    }
    by_day: dict[date, DayFigures] = {
        row.day: DayFigures.from_json(row.payload)
        for row in DashboardDay.objects.filter(
            filters_key=key, day__in=cacheable, computed_at__gt=now - MAX_AGE
        ).only("day", "payload")
    }
    fresh: list[DashboardDay] = []
    for lo, hi in _missing_runs(start, end, days, set(by_day)):
        computed = compute_days(lo, hi, filters)
        by_day.update(computed)
        fresh += [
            DashboardDay(day=day, filters_key=key, payload=figures.as_json(), computed_at=now)
            for day, figures in computed.items()
            if day in cacheable
        ]
    if fresh:
        DashboardDay.objects.bulk_create(
            fresh,
            update_conflicts=True,
            unique_fields=["day", "filters_key"],
            update_fields=["payload", "computed_at"],
        )
    return _assemble([(day, by_day[day]) for day in days])


def _missing_runs(
    start: datetime, end: datetime, days: list[date], cached: set[date]
) -> list[tuple[datetime, datetime]]:
    """The [lo, hi) spans of consecutive days not in `cached`, clipped to the range."""
    runs: list[tuple[datetime, datetime]] = []
    for day in days:
        if day in cached:
            continue
        lo, hi = max(start, _midnight(day)), min(end, _midnight(day + timedelta(days=1)))
        if runs and runs[-1][1] == lo:
            runs[-1] = (runs[-1][0], hi)
        else:
            runs.append((lo, hi))
    return runs


def compute_days(start: datetime, end: datetime, filters: kpis.Filters) -> dict[date, DayFigures]:
    """Every day the range touches, its figures over the part of it in the range, one grouped
    query per figure."""
    figures = {
        d.day: DayFigures(published=d.count, median_seconds=d.median_seconds)
        for d in kpis.time_to_publication_per_day(start, end, filters)
    }
    for row in (
        kpis._computed(start, end, filters)
        .annotate(day=TruncDate(kpis._finished_at()))
        .values("day")
        .annotate(**kpis._cost_columns())
        .order_by()
    ):
        figures[row["day"]].cost = [row["versions"], row["cost"], row["cpu_seconds"], row["gpu_seconds"]]
    scored = kpis._scored(start, end, filters)
    last = 100 // kpis.SCORE_BUCKET_WIDTH - 1
    for day, bucket, n, flagged in (
        scored.annotate(
            day=TruncDate("scored_at"), bucket=Least(F("score") / Value(kpis.SCORE_BUCKET_WIDTH), Value(last))
        )
        .values("day", "bucket")
        .annotate(n=Count("*"), flagged=Count(Value(1), filter=kpis.WENT_TO_REVIEW))
        .order_by()
        .values_list("day", "bucket", "n", "flagged")
    ):
        figures[day].buckets.append([bucket, n, flagged])
    for day, action, n in _decisions_per_day(scored):
        figures[day].decisions[action] = n
    for day, code, n in _reasons_per_day(scored):
        figures[day].reasons[code] = n
    for day, profile_id, first, passed in _compliance_per_day(start, end, filters):
        figures[day].compliance[str(profile_id)] = [first, passed, 0]
    for day, profile_id, blocked in _blocked_per_day(start, end, filters):
        figures[day].compliance.setdefault(str(profile_id), [0, 0, 0])[2] = blocked
    return figures


def _decisions_per_day(scored: Any) -> list[tuple[date, str, int]]:
    """kpis.manual_intervention's decision split, per day of the version's scored_at.

    Joined to the flagged versions' index-only range, which brings their day along: taking
    scored_at through the decision's foreign key looked every version up again, twice as slow.
    """
    flagged = scored.filter(kpis.WENT_TO_REVIEW).order_by().values(vid=F("pk"), day=TruncDate("scored_at"))
    inner_sql, params = flagged.query.sql_with_params()
    sql = (
        "SELECT v.day, d.action, COUNT(*) AS n "  # noqa: S608
        f"FROM {ReviewDecision._meta.db_table} AS d JOIN ({inner_sql}) AS v ON d.version_id = v.vid "
        "GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _reasons_per_day(scored: Any) -> list[tuple[date, str, int]]:
    """kpis.flag_reasons_ranked's counts, per day of scored_at."""
    flagged = (
        scored.filter(kpis.WENT_TO_REVIEW)
        .annotate(day=TruncDate("scored_at"))
        .order_by()
        .values("day", "reasons")
    )
    return count_reason_codes(flagged, "day")


def _compliance_per_day(start: datetime, end: datetime, filters: kpis.Filters) -> Any:
    """kpis.first_pass_compliance's counts, per day of Rendition.created_at and profile id."""
    qs = Rendition.objects.filter(
        created_at__gte=start, created_at__lt=end, first_attempt=True, compliance_passed__isnull=False
    ).filter(filters.catalog_q(prefix="version__"))
    if filters.profile is not None:
        qs = qs.filter(profile__slug=filters.profile)
    return (
        qs.annotate(day=TruncDate("created_at"))
        .values("day", "profile_id")
        .annotate(first=Count("*"), passed=Count(Value(1), filter=Q(compliance_passed=True)))
        .order_by()
        .values_list("day", "profile_id", "first", "passed")
    )


def _blocked_per_day(start: datetime, end: datetime, filters: kpis.Filters) -> Any:
    """kpis.first_pass_compliance's blocked channels, per day of BlockedChannel.created_at and profile id."""
    return (
        kpis.blocked_channels(start, end, filters)
        .annotate(day=TruncDate("created_at"))
        .values("day", "profile_id")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("day", "profile_id", "n")
    )


def _assemble(days: list[tuple[date, DayFigures]]) -> RangeFigures:
    """Sum the days into the dataclasses insights.kpis returns for the whole range."""
    buckets: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    decisions: dict[str, int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    compliance: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for _, figures in days:
        for bucket, n, flagged in figures.buckets:
            buckets[bucket][0] += n or 0
            buckets[bucket][1] += flagged or 0
        for action, n in figures.decisions.items():
            decisions[action] += n
        for code, n in figures.reasons.items():
            reasons[code] += n
        for profile_id, counts in figures.compliance.items():
            for i, n in enumerate(counts[:3]):
                compliance[int(profile_id)][i] += n
    bucket_rows = [(bucket, n, flagged) for bucket, (n, flagged) in buckets.items()]
    total, flagged_total = sum(n for _, n, _ in bucket_rows), sum(f for _, _, f in bucket_rows)
    intervention = kpis.ManualIntervention(
        total=total,
        flagged=flagged_total,
        share=flagged_total / total if total else None,
        approve=decisions[ReviewAction.APPROVE],
        reject=decisions[ReviewAction.REJECT],
        reprocess=decisions[ReviewAction.REPROCESS],
    )
    slugs = (
        dict(MarketplaceProfile.objects.filter(pk__in=list(compliance)).values_list("pk", "slug"))
        if compliance
        else {}
    )
    return RangeFigures(
        ttp_daily=[kpis.DailyTimeToPublication(day, f.published, f.median_seconds) for day, f in days],
        cost_days=[kpis.DailyCost(day, int(f.cost[0]), *f.cost[1:]) for day, f in days if f.cost is not None],
        scored=kpis.ScoredBreakdown(intervention, kpis._score_buckets(bucket_rows)),
        reasons=sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
        compliance=sorted(
            (
                kpis.ProfileCompliance(slugs[pk], first, passed, passed / first if first else None, blocked)
                for pk, (first, passed, blocked) in compliance.items()
            ),
            key=lambda row: row.profile,
        ),
    )
