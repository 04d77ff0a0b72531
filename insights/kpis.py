"""The dashboard's KPIs, each computed once: per day, and every range composed from its days.

`compute_days` computes, for every day (current time zone) a half-open range `start <= t < end`
touches, that day's figures over the part of it in the range: the durations from upload to
publication as a mergeable sketch (lightbox.sketch) and publications per hour (by
`published_at`), compute cost (by when the work finished, scored or failed), score buckets,
who went to review, their decisions and flag reasons (by `scored_at`), first-pass compliance
(`Rendition.created_at`) and blocked channels (`BlockedChannel.created_at`). It can group the
days by brand, category or upload batch in the same pass, which is how insights.daycache rolls
every single-filter view up at once.

`compose` turns any list of days into the range's figures: counts and costs add up, and
percentiles come from the merged sketches, so a range read from stored days (insights.daycache)
and one computed now are the same arithmetic over the same days. `over_range` is the latter.
Empty ranges give zero counts and None for averages, shares and percentiles.

What does not add up over days stays live: the volume tiers (a version's tier is its place in
the month over all versions, found by walking the index) and, in insights.dashboard, the status
counts now and the queue backlog.

Each query is shaped for an index of ImageVersion or Rendition (their Meta says which KPI each
serves), so they count rows (COUNT(*)), never a column an index lacks. Run a page of them in
`analytics()`.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Expression,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncDate, TruncHour
from django.utils import timezone

from catalog.models import (
    BlockedChannel,
    ImageVersion,
    MarketplaceProfile,
    Rendition,
    VersionStatus,
)
from catalog.reasons import count_reason_codes
from lightbox import sketch
from lightbox.sketch import Sketch, bucket_sql
from review.effort import PeriodEffort, ReviewEffort, compose_effort, effort_per_period, merge_effort
from review.models import ReviewAction, ReviewDecision

# A version "went to a person" when it reached FLAGGED: it is there now, or a reviewer
# moved it on (rejected, superseded, or approved), which stamps reviewed_at. Only FLAGGED
# leads to REJECTED and SUPERSEDED, and a ReviewDecision is only written by the transition
# that stamps reviewed_at (review.services._decide), so status and reviewed_at tell it
# without a join to the decisions: both are on the scored_at index.
WENT_TO_REVIEW = Q(status__in=(VersionStatus.FLAGGED, VersionStatus.REJECTED, VersionStatus.SUPERSEDED)) | Q(
    reviewed_at__isnull=False
)

SCORE_BUCKET_WIDTH = 10
# Grouped days of a long range sort a lot at a million versions, which spills to disk in
# PostgreSQL's default 4 MB. A few admins use the page, so it can have more.
ANALYTICS_WORK_MEM = "64MB"
# What compute_days can group its days by: the field of ImageVersion each stands for.
GROUPS = {"brand": "brand", "category": "category", "batch": "source__batch_id"}


@contextmanager
def analytics() -> Iterator[None]:
    """One transaction for a page of KPIs, with sort memory to spare and no JIT.

    Over a million versions the KPI queries plan above PostgreSQL's JIT threshold, and
    compiling them took longer than running them (bench/dashboard.py), as in the review queue.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"SET LOCAL work_mem = '{ANALYTICS_WORK_MEM}'")
        yield


@dataclass(frozen=True)
class Filters:
    """Optional narrowing of a KPI; None means no filter on that field."""

    brand: str | None = None
    category: str | None = None
    batch: uuid.UUID | str | None = None
    profile: str | None = None  # marketplace profile slug

    def catalog_q(self, prefix: str = "") -> Q:
        """Brand, category and batch as a Q over ImageVersion, or over a relation to it via `prefix`.

        The profile filter is not here: versions and renditions apply it differently.
        """
        q = Q()
        if self.brand is not None:
            q &= Q(**{f"{prefix}brand": self.brand})
        if self.category is not None:
            q &= Q(**{f"{prefix}category": self.category})
        if self.batch is not None:
            q &= Q(**{f"{prefix}source__batch_id": self.batch})
        return q

    def rendition_q(self) -> Q:
        """The same over Rendition, whose rows carry their version's brand and category."""
        q = Filters(batch=self.batch).catalog_q(prefix="version__")
        if self.brand is not None:
            q &= Q(brand=self.brand)
        if self.category is not None:
            q &= Q(category=self.category)
        return q


NO_FILTERS = Filters()


def _versions(filters: Filters | None, **range_lookup: Any) -> QuerySet[ImageVersion]:
    filters = filters or NO_FILTERS
    qs = ImageVersion.objects.filter(**range_lookup).filter(filters.catalog_q())
    if filters.profile is not None:
        # A version belongs to a profile when it has a rendition for it: the profiles it has
        # renditions for are on its row (catalog.rendered), read with it rather than probed.
        profile = MarketplaceProfile.objects.filter(slug=filters.profile).values_list("pk", flat=True).first()
        qs = qs.filter(rendered_for__contains=[profile]) if profile is not None else qs.none()
    return qs


def _hour_starts(start: datetime, end: datetime) -> list[datetime]:
    """Every clock hour (current time zone) the half-open range touches, by its start."""
    hours = []
    hour = timezone.localtime(start).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def _days(start: datetime, end: datetime) -> list[date]:
    """Every day (current time zone) the half-open range touches, oldest first."""
    if end <= start:
        return []
    first = timezone.localtime(start).date()
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class EpochSeconds(Func):
    """date_part('epoch', interval): double precision. EXTRACT(EPOCH …) gives numeric, and
    sorting numerics (or intervals) took twice as long (bench/dashboard.py)."""

    function = "date_part"
    template = "%(function)s('epoch', %(expressions)s)"
    output_field = FloatField()


class SketchBucket(Func):
    """The lightbox.sketch bucket of a duration in seconds."""

    template = bucket_sql("%(expressions)s")
    output_field = IntegerField()


def _upload_to_live() -> EpochSeconds:
    return EpochSeconds(F("published_at") - F("queued_at"))


def _finished_at() -> Coalesce:
    # Compute is spent by the time a version is scored, or when it fails trying.
    return Coalesce("scored_at", "failed_at")


def _list_price() -> Case:
    # Anything not run on a GPU (cpu, or blank on old rows) is charged at the CPU price.
    return Case(
        When(
            compute_device="gpu",
            then=F("compute_seconds") * Value(settings.LIGHTBOX_GPU_SECOND_PRICE),
        ),
        default=F("compute_seconds") * Value(settings.LIGHTBOX_CPU_SECOND_PRICE),
        output_field=FloatField(),
    )


def _cost_expression() -> Sum:
    return Sum(_list_price(), default=0.0)


def _cost_columns() -> dict[str, Aggregate]:
    return {
        "versions": Count("*"),
        "cost": _cost_expression(),
        "cpu_seconds": Sum("compute_seconds", filter=~Q(compute_device="gpu"), default=0.0),
        "gpu_seconds": Sum("compute_seconds", filter=Q(compute_device="gpu"), default=0.0),
    }


def _computed(start: datetime, end: datetime, filters: Filters | None) -> QuerySet[ImageVersion]:
    return (
        _versions(filters, compute_seconds__isnull=False)
        .alias(finished_at=_finished_at())
        .filter(finished_at__gte=start, finished_at__lt=end)
    )


def blocked_channels(
    start: datetime, end: datetime, filters: Filters | None = None
) -> QuerySet[BlockedChannel]:
    """Channels blocked in the range, narrowed like the renditions (catalog_blocked_created_idx)."""
    filters = filters or NO_FILTERS
    qs = BlockedChannel.objects.filter(created_at__gte=start, created_at__lt=end).filter(
        filters.catalog_q(prefix="version__")
    )
    if filters.profile is not None:
        qs = qs.filter(profile__slug=filters.profile)
    return qs


# --- one day's figures --------------------------------------------------------------


@dataclass
class DayFigures:
    """One day's figures, as compute_days finds them and insights.models.DashboardDay stores them."""

    publication: Sketch = field(default_factory=Sketch)  # upload-to-live seconds
    hourly: dict[str, int] = field(default_factory=dict)  # hour's start, epoch seconds → published
    cost: list[float] | None = None  # versions, cost, cpu seconds, gpu seconds; None: no finished work
    # hour's start, epoch seconds → [versions, cost] of the work finished in it (volume_tiers)
    cost_hourly: dict[str, list[float]] = field(default_factory=dict)
    buckets: list[list[int | None]] = field(default_factory=list)  # [score bucket, versions, went to review]
    decisions: dict[str, int] = field(default_factory=dict)  # action → decisions
    reasons: dict[str, int] = field(default_factory=dict)  # code → versions
    compliance: dict[str, list[int]] = field(default_factory=dict)  # profile id → [first, passed, blocked]
    # Decisions made that day, all products whatever the filters (review.effort).
    effort: PeriodEffort = field(default_factory=dict)

    @classmethod
    def merged(cls, parts: Iterable[DayFigures]) -> DayFigures:
        """One period's figures from those of its parts (a day from its hours)."""
        parts = list(parts)
        total = cls()
        buckets: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
        decisions: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        compliance: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        sketches = []
        for part in parts:
            sketches.append(part.publication)
            total.hourly.update(part.hourly)
            if part.cost is not None:
                total.cost = [a + b for a, b in zip(total.cost or [0, 0.0, 0.0, 0.0], part.cost, strict=True)]
            for moment, (hour_versions, hour_cost) in part.cost_hourly.items():
                so_far = total.cost_hourly.get(moment, [0, 0.0])
                total.cost_hourly[moment] = [so_far[0] + hour_versions, so_far[1] + hour_cost]
            for bucket, n, flagged in part.buckets:
                buckets[bucket][0] += n or 0
                buckets[bucket][1] += flagged or 0
            decisions.update(part.decisions)
            reasons.update(part.reasons)
            for profile_id, counts in part.compliance.items():
                for i, n in enumerate(counts):
                    compliance[profile_id][i] += n
        total.publication = Sketch.merged(sketches)
        total.buckets = [[bucket, n, flagged] for bucket, (n, flagged) in buckets.items()]
        total.decisions, total.reasons, total.compliance = dict(decisions), dict(reasons), dict(compliance)
        total.effort = merge_effort(part.effort for part in parts)
        return total

    def as_json(self) -> dict[str, Any]:
        payload = {name: getattr(self, name) for name in self.__dataclass_fields__}
        payload["publication"] = self.publication.as_json()
        return payload

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> DayFigures:
        return cls(**{**payload, "publication": Sketch.from_json(payload["publication"])})


DayKey = tuple[date, Any]  # (day, the group's value, or None when not grouped)


def compute_days(
    start: datetime, end: datetime, filters: Filters | None = None, by: str | None = None, per: str = "day"
) -> dict[DayKey, DayFigures]:
    """The figures of every day the range touches (over the part of it in the range), keyed by
    (day, value of the `by` group: a key of GROUPS, or None for no grouping), one grouped query
    per figure. Without `by` every day is there, quiet ones empty; with it, only the (day,
    value) pairs that have something. `per="hour"`: the same per clock hour, keyed by the
    hour's start instead of the day."""
    filters = filters or NO_FILTERS
    group, grouping = (["grp"], {"grp": F(GROUPS[by])}) if by else ([], {})
    trunc: type[TruncDate] | type[TruncHour] = TruncHour if per == "hour" else TruncDate
    figures: dict[DayKey, DayFigures] = defaultdict(DayFigures)
    if not by:
        for period in _hour_starts(start, end) if per == "hour" else _days(start, end):
            figures[(period, None)] = DayFigures()

    def key(row: tuple[Any, ...]) -> DayKey:
        period = row[0]
        if isinstance(period, datetime) and timezone.is_naive(period):
            period = timezone.make_aware(period)  # raw SQL (reasons, decisions) gives local wall time
        return (period, row[1] if by else None)

    published = _versions(filters, published_at__gte=start, published_at__lt=end).order_by()
    exact: dict[DayKey, list[float]] = defaultdict(list)
    for row in (
        published.values(**grouping, day=trunc("published_at"), bucket=SketchBucket(_upload_to_live()))
        .annotate(n=Count("*"), seconds=ArrayAgg(_upload_to_live()))
        .values_list("day", *group, "bucket", "n", "seconds")
    ):
        *_, bucket, n, seconds = row
        figures[key(row)].publication.buckets[bucket] += n
        exact[key(row)] += seconds
    for day_key, values in exact.items():
        figures[day_key].publication.exact = sorted(values) if len(values) <= sketch.EXACT_UP_TO else None
    for row in (
        published.values(**grouping, hour=TruncHour("published_at"))
        .annotate(n=Count("*"))
        .values_list("hour", *group, "n")
    ):
        hour, n = row[0], row[-1]
        period = hour if per == "hour" else timezone.localtime(hour).date()
        figures[(period, row[1] if by else None)].hourly[str(int(hour.timestamp()))] = n

    # Per hour, the day's cost being the sum of its hours: volume_tiers reads a day where a
    # tier starts from them, and only the hour of the start again.
    for row in (
        _computed(start, end, filters)
        .values(**grouping, hour=TruncHour(_finished_at()))
        .annotate(**_cost_columns())
        .order_by()
        .values_list("hour", *group, "versions", "cost", "cpu_seconds", "gpu_seconds")
    ):
        hour = row[0]
        period = hour if per == "hour" else timezone.localtime(hour).date()
        day = figures[(period, row[1] if by else None)]
        day.cost = [a + b for a, b in zip(day.cost or [0, 0.0, 0.0, 0.0], row[-4:], strict=True)]
        day.cost_hourly[str(int(hour.timestamp()))] = [row[-4], row[-3]]

    scored = _versions(filters, scored_at__gte=start, scored_at__lt=end)
    last = 100 // SCORE_BUCKET_WIDTH - 1
    for row in (
        scored.values(
            **grouping,
            day=trunc("scored_at"),
            bucket=Least(F("score") / Value(SCORE_BUCKET_WIDTH), Value(last)),
        )
        .annotate(n=Count("*"), flagged=Count(Value(1), filter=WENT_TO_REVIEW))
        .order_by()
        .values_list("day", *group, "bucket", "n", "flagged")
    ):
        figures[key(row)].buckets.append(list(row[-3:]))
    for row in _decisions_per_day(scored, grouping, trunc):
        figures[key(row)].decisions[row[-2]] = row[-1]
    flagged = scored.filter(WENT_TO_REVIEW).order_by().values("reasons", **grouping, day=trunc("scored_at"))
    for row in count_reason_codes(flagged, "day", *group):
        figures[key(row)].reasons[row[-2]] = row[-1]

    renditions = Rendition.objects.filter(
        created_at__gte=start, created_at__lt=end, first_attempt=True, compliance_passed__isnull=False
    ).filter(filters.rendition_q())
    if filters.profile is not None:
        renditions = renditions.filter(profile__slug=filters.profile)
    via_version = {"grp": F(f"version__{GROUPS[by]}")} if by else {}
    # Brand and category are on the rendition's own row (its index holds them); a batch is not.
    own_group = {"grp": F(by)} if by in ("brand", "category") else via_version
    for row in (
        renditions.values("profile_id", **own_group, day=trunc("created_at"))
        .annotate(first=Count("*"), passed=Count(Value(1), filter=Q(compliance_passed=True)))
        .order_by()
        .values_list("day", *group, "profile_id", "first", "passed")
    ):
        figures[key(row)].compliance[str(row[-3])] = [row[-2], row[-1], 0]
    for row in (
        blocked_channels(start, end, filters)
        .values("profile_id", **via_version, day=trunc("created_at"))
        .annotate(n=Count("*"))
        .order_by()
        .values_list("day", *group, "profile_id", "n")
    ):
        figures[key(row)].compliance.setdefault(str(row[-2]), [0, 0, 0])[2] = row[-1]
    # Review effort counts every product: the same for any filters, and for every group.
    for period, effort in effort_per_period(start, end, per).items():
        if by:
            for (at, _), day in figures.items():
                if at == period:
                    day.effort = effort
        else:
            figures[(period, None)].effort = effort
    return dict(figures)


def _decisions_per_day(
    scored: QuerySet[ImageVersion], grouping: dict[str, F], trunc: type[TruncDate] | type[TruncHour]
) -> list[tuple[Any, ...]]:
    """(day of scored_at, *group, action, decisions) of the range's versions that went to review.

    Joined to the flagged versions' index-only range, which brings their day along: taking
    scored_at through the decision's foreign key looked every version up again, twice as slow.
    """
    flagged = scored.filter(WENT_TO_REVIEW).order_by().values(**grouping, vid=F("pk"), day=trunc("scored_at"))
    try:
        inner_sql, params = flagged.query.sql_with_params()
    except EmptyResultSet:  # a profile that is not there: no versions
        return []
    columns = "".join(f", v.{connection.ops.quote_name(name)}" for name in grouping)
    sql = (
        f"SELECT v.day{columns}, d.action, COUNT(*) AS n "  # noqa: S608 - ORM-built and parametrised
        f"FROM {ReviewDecision._meta.db_table} AS d JOIN ({inner_sql}) AS v ON d.version_id = v.vid "
        f"GROUP BY {', '.join(str(i) for i in range(1, len(grouping) + 3))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- a range, composed from its days ------------------------------------------------


@dataclass(frozen=True)
class TimeToPublication:
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class DailyTimeToPublication:
    day: date
    count: int
    median_seconds: float | None


@dataclass(frozen=True)
class ManualIntervention:
    total: int
    flagged: int
    share: float | None
    approve: int
    reject: int
    reprocess: int


@dataclass(frozen=True)
class DailyCost:
    day: date
    versions: int
    cost: float
    cpu_seconds: float
    gpu_seconds: float
    # hour's start → (versions, cost) of the day's work per clock hour (volume_tiers); empty: not known
    hours: Mapping[datetime, tuple[int, float]] = field(default_factory=dict, compare=False, repr=False)


class EpochHours(Mapping[datetime, tuple[int, float]]):
    """A stored day's cost per hour ({epoch seconds: [versions, cost]}) as hour starts, converted
    when read: volume_tiers reads the hours of the days where a tier starts, a range has many more."""

    def __init__(self, stored: dict[str, list[float]]) -> None:
        self._stored = stored

    def __getitem__(self, hour: datetime) -> tuple[int, float]:
        n, cost = self._stored[str(int(hour.timestamp()))]
        return int(n), cost

    def __iter__(self) -> Iterator[datetime]:
        tz = timezone.get_current_timezone()
        return (datetime.fromtimestamp(int(at), tz) for at in self._stored)

    def __len__(self) -> int:
        return len(self._stored)


@dataclass(frozen=True)
class ComputeCost:
    versions: int
    cpu_seconds: float
    gpu_seconds: float
    cost: float
    cost_per_image: float | None

    @classmethod
    def of_days(cls, days: list[DailyCost]) -> ComputeCost:
        versions, cost = sum(d.versions for d in days), sum(d.cost for d in days)
        return cls(
            versions=versions,
            cpu_seconds=sum(d.cpu_seconds for d in days),
            gpu_seconds=sum(d.gpu_seconds for d in days),
            cost=cost,
            cost_per_image=cost / versions if versions else None,
        )


@dataclass(frozen=True)
class ProfileCompliance:
    profile: str
    renditions_first_attempt: int
    passed_first_attempt: int
    rate: float | None
    # Versions that became blocked on the profile in the range: below its minimum (never
    # rendered, so not among the attempts) or with a rendition that failed its checks.
    blocked: int = 0


@dataclass(frozen=True)
class HourlyThroughput:
    hour: datetime
    published: int


@dataclass(frozen=True)
class ScoreBucket:
    low: int
    high: int  # inclusive
    count: int


@dataclass(frozen=True)
class ScoredBreakdown:
    intervention: ManualIntervention
    scores: list[ScoreBucket]


@dataclass(frozen=True)
class RangeFigures:
    """A range's KPIs, composed from its days."""

    ttp: TimeToPublication  # upload-to-live of versions published in the range, percentile_cont
    ttp_daily: list[DailyTimeToPublication]  # its median per day, every day the range touches
    hourly: list[HourlyThroughput]  # publications per hour, every hour the range touches (if asked)
    cost_days: list[DailyCost]  # days without finished work left out
    cost: ComputeCost
    scored: ScoredBreakdown  # versions scored in the range: who went to a person, the scores
    reasons: list[tuple[str, int]]  # flag reasons of those who did, most frequent first
    compliance: list[ProfileCompliance]  # per profile slug
    effort: ReviewEffort  # decisions made in the range, all products


def compose(
    start: datetime, end: datetime, days: Iterable[tuple[date, DayFigures]], hourly: bool = True
) -> RangeFigures:
    """The range's figures from its days' (every day the range touches, oldest first).
    `hourly=False` leaves the publications per hour out (a page drawing them per day)."""
    with_hours = hourly
    days = list(days)
    buckets: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    decisions: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    compliance: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_hour: dict[datetime, int] = {}
    tz = timezone.get_current_timezone()
    for _, figures in days:
        for bucket, n, flagged in figures.buckets:
            buckets[bucket][0] += n or 0
            buckets[bucket][1] += flagged or 0
        decisions.update(figures.decisions)
        reasons.update(figures.reasons)
        for profile_id, counts in figures.compliance.items():
            for i, n in enumerate(counts[:3]):
                compliance[int(profile_id)][i] += n
        for moment, n in figures.hourly.items() if with_hours else ():
            at = datetime.fromtimestamp(int(moment), tz)
            per_hour[at] = per_hour.get(at, 0) + n
    publication = Sketch.merged(figures.publication for _, figures in days)
    total, flagged_total = sum(n for n, _ in buckets.values()), sum(f for _, f in buckets.values())
    intervention = ManualIntervention(
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
    cost_days = [
        DailyCost(
            day,
            int(f.cost[0]),
            f.cost[1],
            f.cost[2],
            f.cost[3],
            hours=EpochHours(f.cost_hourly),
        )
        for day, f in days
        if f.cost is not None
    ]
    return RangeFigures(
        ttp=TimeToPublication(
            publication.count,
            publication.quantile(0.5),
            publication.quantile(0.9),
            publication.quantile(0.95),
        ),
        ttp_daily=[
            DailyTimeToPublication(day, f.publication.count, f.publication.quantile(0.5)) for day, f in days
        ],
        hourly=_hours(start, end, per_hour) if with_hours else [],
        cost_days=cost_days,
        cost=ComputeCost.of_days(cost_days),
        scored=ScoredBreakdown(intervention, _score_buckets(buckets)),
        reasons=sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
        compliance=sorted(
            (
                ProfileCompliance(slugs[pk], first, passed, passed / first if first else None, blocked)
                for pk, (first, passed, blocked) in compliance.items()
            ),
            key=lambda row: row.profile,
        ),
        effort=compose_effort(figures.effort for _, figures in days),
    )


def _hours(start: datetime, end: datetime, counts: dict[datetime, int]) -> list[HourlyThroughput]:
    """Every clock hour (current time zone) the range touches, zero-filled."""
    return [HourlyThroughput(hour, counts.get(hour, 0)) for hour in _hour_starts(start, end)]


def _score_buckets(counts: dict[int | None, list[int]]) -> list[ScoreBucket]:
    """Ten buckets: 0–9, 10–19, … 90–100 (integer division; 100 joins the 90s)."""
    last = 100 // SCORE_BUCKET_WIDTH - 1
    return [
        ScoreBucket(
            low=i * SCORE_BUCKET_WIDTH,
            high=100 if i == last else (i + 1) * SCORE_BUCKET_WIDTH - 1,
            count=counts[i][0] if i in counts else 0,
        )
        for i in range(last + 1)
    ]


def over_range(start: datetime, end: datetime, filters: Filters | None = None) -> RangeFigures:
    """The range's figures composed from its days computed now (insights.daycache reads the
    past ones from storage instead)."""
    days = compute_days(start, end, filters)
    return compose(start, end, ((day, figures) for (day, _), figures in sorted(days.items())))


# --- cost per volume tier (live: a version's tier is its place in its month) -------


@dataclass(frozen=True)
class VolumeTier:
    label: str  # which versions of a month it covers, counted from 1: "1–10,000", "10,001+"
    factor: float
    versions: int
    list_cost: float
    tiered_cost: float
    cost_per_image: float | None  # tiered


def _tier_labels(tiers: tuple[tuple[int, float], ...]) -> list[str]:
    bounds = [low for low, _ in tiers]
    labels = []
    for low, high in zip(bounds, [*bounds[1:], None], strict=True):
        if high is None:
            labels.append(f"{low + 1:,}+")
        else:
            labels.append(f"{high:,}" if high == low + 1 else f"{low + 1:,}–{high:,}")
    return labels


def _months(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[first instant, first instant of the next) of each calendar month (current time zone)
    the half-open range touches, the first starting before `start` when mid-month."""
    months = []
    month = timezone.localtime(start).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month < end:
        following = (month + timedelta(days=32)).replace(day=1)
        months.append((month, following))
        month = following
    return months


def _tier_starts(
    start: datetime,
    end: datetime,
    finished_per_day: dict[date, int] | None = None,
    finished_per_hour: Mapping[date, dict[datetime, int]] | None = None,
) -> list[tuple[datetime, datetime, uuid.UUID]]:
    """(month start, finished_at, id) of the first version of each tier but the first that
    some month reaches before `end`: the version finished N-th in its month, N a threshold,
    in (finished, id) order, over all versions. Oldest first.

    `finished_per_day` (versions finished each day, unfiltered, as insights.daycache stores
    them) tells on which day a threshold falls, and `finished_per_hour` (the same per clock
    hour of a stored day) in which hour of it, so only that hour is walked along the
    finished-time index, with an OFFSET under an hour's work. From the first day it lacks,
    the rest of the month is walked: to the threshold with OFFSET, then on from that version.
    """
    found = []
    known = finished_per_day or {}
    hourly = finished_per_hour or {}
    tz = timezone.get_current_timezone()
    thresholds = [low for low, _ in settings.LIGHTBOX_VOLUME_TIERS][1:]
    for month_start, month_end in _months(start, end):
        walk = (
            ImageVersion.objects.filter(compute_seconds__isnull=False)
            .annotate(finished_at=_finished_at())
            .filter(finished_at__gte=month_start, finished_at__lt=min(month_end, end))
            .order_by("finished_at", "pk")
            .values_list("finished_at", "pk")
        )
        before = 0  # versions of the month before `day`
        day = month_start.date()
        # Where the walk to the next threshold may start: (rank in the month, the versions from there on).
        after_last: tuple[int, Any] | None = None  # the version found for the previous threshold
        for low in thresholds:
            while day in known and before + known[day] <= low:
                before += known[day]
                day += timedelta(days=1)
            midnight = datetime.combine(day, time.min, tzinfo=tz)
            if midnight >= min(month_end, end):
                break  # the month ended (or the range did) before this tier
            starts = [(before, walk.filter(finished_at__gte=midnight))]
            if day in known and day in hourly:
                rank = before
                for hour, n in sorted(hourly[day].items()):
                    if rank + n > low:
                        starts.append((rank, walk.filter(finished_at__gte=hour)))
                        break
                    rank += n
            if after_last is not None:
                starts.append(after_last)
            rank, rest = max(starts, key=lambda candidate: candidate[0])  # the nearest start
            first = rest[low - rank : low - rank + 1].first()
            if first is None:
                break  # the month ended (or the range did) before this tier
            found.append((month_start, *first))
            # A next tier walks on from this version (keyset: the >= is the index range, the
            # OR settles ties on the time), unless its day or hour is nearer.
            at, pk = first
            after_last = (low, walk.filter(finished_at__gte=at).filter(Q(finished_at__gt=at) | Q(pk__gte=pk)))
    return found


def volume_tiers(
    start: datetime,
    end: datetime,
    filters: Filters | None,
    days: list[DailyCost],
    finished_per_day: dict[date, int] | None = None,
    finished_per_hour: Mapping[date, dict[datetime, int]] | None = None,
) -> list[VolumeTier]:
    """compute cost split by LIGHTBOX_VOLUME_TIERS, from the range's per-day costs (`days`, as
    RangeFigures.cost_days gives them): only the days where a tier starts are read again.

    Tiers are all listed, empty ones too. A version's tier depends on how many versions, of
    any brand or batch, finished before it in its calendar month (current time zone; ties by
    id): with "0:1.0,10000:0.8" the first 10,000 of a month are priced at list, the rest at
    80%. So the count starts at the month's beginning even when the range starts later, and
    filters narrow which versions are reported, never how they are ranked. The first version
    of each tier is found per month (_tier_starts; `finished_per_day` and `finished_per_hour`
    spare most of the walk).
    A tier changes only there, so a day without such a version is in one tier."""
    computed = _computed(start, end, filters)
    tier_starts = _tier_starts(start, end, finished_per_day, finished_per_hour)
    in_tier: dict[int, tuple[int, float]] = {}

    def add(tier: int, versions: int, cost: float) -> None:
        before = in_tier.get(tier, (0, 0.0))
        in_tier[tier] = (before[0] + versions, before[1] + cost)

    def split(
        lo: datetime, hi: datetime, tier: int, splits: list[tuple[datetime, Any]], total: tuple[int, float]
    ) -> None:
        """Add [lo, hi)'s versions (`total` of them in all) to their tiers, `tier` the one at `lo`
        and each of `splits` starting the next: read from the versions (a filtered read is the
        slow part, so the shorter side only when one tier starts there)."""
        if len(splits) == 1:
            # Take the other side as the rest of the total.
            at, pk = splits[0]
            before = (Q(finished_at__lt=at) | Q(finished_at=at, pk__lt=pk)) & Q(finished_at__gte=lo)
            after = (Q(finished_at__gt=at) | Q(finished_at=at, pk__gte=pk)) & Q(finished_at__lt=hi)
            read_before = at - lo <= hi - at
            side = computed.filter(before if read_before else after).aggregate(
                versions=Count("*"), cost=_cost_expression()
            )
            rest = (total[0] - side["versions"], total[1] - side["cost"])
            add(tier, *((side["versions"], side["cost"]) if read_before else rest))
            add(tier + 1, *(rest if read_before else (side["versions"], side["cost"])))
            return
        at_tier: Expression = Value(tier)
        for at, pk in splits:
            reached = Q(finished_at__gt=at) | Q(finished_at=at, pk__gte=pk)
            at_tier = at_tier + Case(When(reached, then=Value(1)), default=Value(0))
        for n, versions, cost in (
            computed.filter(finished_at__gte=lo, finished_at__lt=hi)  # type: ignore[misc]
            .annotate(tier=at_tier)
            .values("tier")
            .annotate(versions=Count("*"), cost=_cost_expression())
            .order_by()
            .values_list("tier", "versions", "cost")
        ):
            add(n, versions, cost)

    tz = timezone.get_current_timezone()
    for day in days:
        day_start = datetime.combine(day.day, time.min, tzinfo=tz)
        day_end = datetime.combine(day.day + timedelta(days=1), time.min, tzinfo=tz)
        month_start = day_start.replace(day=1)
        in_month = [(at, pk) for month, at, pk in tier_starts if month == month_start]
        tier = 1 + sum(1 for at, _ in in_month if at < day_start)
        splits = [(at, pk) for at, pk in in_month if day_start <= at < day_end]
        lo, hi = max(day_start, start), min(day_end, end)
        if not splits:
            add(tier, day.versions, day.cost)
        elif not day.hours:
            split(lo, hi, tier, splits, (day.versions, day.cost))
        else:
            # The day's hours are known: each hour without a tier start is in one tier, and
            # only the hours where one starts are read again.
            for hour, (versions, cost) in day.hours.items():
                in_hour = [(at, pk) for at, pk in splits if hour <= at < hour + timedelta(hours=1)]
                at_hour = tier + sum(1 for at, _ in splits if at < hour)
                if in_hour:
                    split(
                        max(hour, lo), min(hour + timedelta(hours=1), hi), at_hour, in_hour, (versions, cost)
                    )
                else:
                    add(at_hour, versions, cost)
    tiers = settings.LIGHTBOX_VOLUME_TIERS
    volume = []
    for n, (label, (_, factor)) in enumerate(zip(_tier_labels(tiers), tiers, strict=True), start=1):
        versions, list_cost = in_tier.get(n, (0, 0.0))
        tiered = list_cost * factor
        volume.append(
            VolumeTier(label, factor, versions, list_cost, tiered, tiered / versions if versions else None)
        )
    return volume
