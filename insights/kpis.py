"""KPIs for the operations dashboard, each aggregated in PostgreSQL over a time range.

Every function takes a half-open range `start <= t < end` of aware datetimes and,
where it makes sense, optional `Filters` (brand, category, upload batch, profile
slug). Which timestamp a KPI ranges over is stated on the function: publication
KPIs use `published_at`, quality KPIs `scored_at`, compliance `Rendition.created_at`.
Empty ranges give zero counts and None for averages, shares and percentiles.

Each query is shaped for an index of ImageVersion or Rendition (their Meta says which
KPI each serves) so that, unfiltered, it reads its range from the index alone;
bench/dashboard.py times them over a million versions. So they count rows (COUNT(*)),
never a column an index lacks. Run a page of them in `analytics()`.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Exists,
    Expression,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Least, TruncDate, TruncHour
from django.utils import timezone

from catalog.models import (
    BlockedChannel,
    ImageVersion,
    MarketplaceProfile,
    Rendition,
    ReviewAction,
    ReviewDecision,
    VersionStatus,
)
from catalog.reasons import count_reason_codes

# A version "went to a person" when it reached FLAGGED: it is there now, or a reviewer
# moved it on (rejected, superseded, or approved), which stamps reviewed_at. Only FLAGGED
# leads to REJECTED and SUPERSEDED, and a ReviewDecision is only written by the transition
# that stamps reviewed_at (review.services._decide), so status and reviewed_at tell it
# without a join to the decisions: both are on the scored_at index.
WENT_TO_REVIEW = Q(status__in=(VersionStatus.FLAGGED, VersionStatus.REJECTED, VersionStatus.SUPERSEDED)) | Q(
    reviewed_at__isnull=False
)

SCORE_BUCKET_WIDTH = 10
# Percentiles sort every duration in the range: a month is ~200,000 at a million versions,
# which spills to disk in PostgreSQL's default 4 MB. A few admins use the page, so it can have more.
ANALYTICS_WORK_MEM = "64MB"


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


NO_FILTERS = Filters()


class Percentile(Aggregate):
    """PostgreSQL `percentile_cont(fraction) WITHIN GROUP (ORDER BY expr)`.

    Several over the same expression in one query share one sort.
    """

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Expression, fraction: float, **extra: Any) -> None:
        # Formatted into the SQL, so only ever a float we chose.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _versions(filters: Filters | None, **range_lookup: Any) -> QuerySet[ImageVersion]:
    filters = filters or NO_FILTERS
    qs = ImageVersion.objects.filter(**range_lookup).filter(filters.catalog_q())
    if filters.profile is not None:
        # A version belongs to a profile when it has a rendition for it; EXISTS counts a
        # version with several such renditions once.
        rendered = Rendition.objects.filter(version=OuterRef("pk"), profile__slug=filters.profile)
        qs = qs.filter(Exists(rendered))
    return qs


def _days(start: datetime, end: datetime) -> list[date]:
    """Every day (current time zone) the half-open range touches, oldest first."""
    if end <= start:
        return []
    first = timezone.localtime(start).date()
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- time to publication ----------------------------------------------------


class EpochSeconds(Func):
    """date_part('epoch', interval): double precision. EXTRACT(EPOCH …) gives numeric, and
    sorting numerics (or intervals) for a percentile took twice as long (bench/dashboard.py)."""

    function = "date_part"
    template = "%(function)s('epoch', %(expressions)s)"
    output_field = FloatField()


def _upload_to_live(fraction: float) -> Percentile:
    return Percentile(EpochSeconds(F("published_at") - F("queued_at")), fraction)


@dataclass(frozen=True)
class TimeToPublication:
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    p95_seconds: float | None


def time_to_publication(start: datetime, end: datetime, filters: Filters | None = None) -> TimeToPublication:
    """Upload-to-live time (queued_at → published_at) of versions published in the range.

    Percentiles are interpolated (percentile_cont), in seconds.
    """
    row = _versions(filters, published_at__gte=start, published_at__lt=end).aggregate(
        count=Count("*"),
        median=_upload_to_live(0.5),
        p90=_upload_to_live(0.9),
        p95=_upload_to_live(0.95),
    )
    return TimeToPublication(row["count"], row["median"], row["p90"], row["p95"])


@dataclass(frozen=True)
class DailyTimeToPublication:
    day: date
    count: int
    median_seconds: float | None


def time_to_publication_per_day(
    start: datetime, end: datetime, filters: Filters | None = None
) -> list[DailyTimeToPublication]:
    """The trend of time_to_publication: its median per day of publication (current time
    zone, UTC), every day the range touches; a day with nothing published has no median.

    One index range per day (a LATERAL subquery over the days) rather than a GROUP BY day:
    that sorted the whole range by day before sorting each day's durations, and took
    half as long again over a month (bench/dashboard.py).
    """
    days = _days(start, end)
    if not days:
        return []
    tz = timezone.get_current_timezone()
    lows = [max(start, datetime.combine(day, time.min, tzinfo=tz)) for day in days]
    highs = [min(end, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)) for day in days]
    one_day = (
        _versions(filters, published_at__gte=RawSQL("d.lo", ()), published_at__lt=RawSQL("d.hi", ()))
        .order_by()
        .values(seconds=EpochSeconds(F("published_at") - F("queued_at")))
    )
    inner_sql, params = one_day.query.sql_with_params()
    # Django has no LATERAL: the day's query is compiled by the ORM (its values are
    # parameters) with the day's bounds taken from the outer row, d.
    sql = (
        "SELECT s.n, s.median FROM unnest(%s::timestamptz[], %s::timestamptz[]) "  # noqa: S608
        "WITH ORDINALITY AS d(lo, hi, i) CROSS JOIN LATERAL ("
        "  SELECT COUNT(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY v.seconds) AS median"
        f"  FROM ({inner_sql}) AS v"
        ") AS s ORDER BY d.i"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [lows, highs, *params])
        rows = cursor.fetchall()
    return [DailyTimeToPublication(day, n, median) for day, (n, median) in zip(days, rows, strict=True)]


# --- manual intervention ----------------------------------------------------


@dataclass(frozen=True)
class ManualIntervention:
    total: int
    flagged: int
    share: float | None
    approve: int
    reject: int
    reprocess: int


def _scored(start: datetime, end: datetime, filters: Filters | None) -> QuerySet[ImageVersion]:
    return _versions(filters, scored_at__gte=start, scored_at__lt=end)


def _scored_buckets(scored: QuerySet[ImageVersion]) -> list[tuple[int | None, int, int]]:
    """(score bucket or None, versions, of which went to review): the scored-range KPIs'
    one pass over the scored_at index. Integer division; 100 joins the 90s bucket."""
    last = 100 // SCORE_BUCKET_WIDTH - 1
    return list(
        scored.annotate(bucket=Least(F("score") / Value(SCORE_BUCKET_WIDTH), Value(last)))
        .values("bucket")
        .annotate(n=Count("*"), flagged=Count(Value(1), filter=WENT_TO_REVIEW))
        .order_by()
        .values_list("bucket", "n", "flagged")
    )


def _intervention(
    scored: QuerySet[ImageVersion], buckets: list[tuple[int | None, int, int]]
) -> ManualIntervention:
    total, flagged = sum(n for _, n, _ in buckets), sum(f for _, _, f in buckets)
    # One decision per version at most (a constraint), read for the flagged few only.
    decided = dict(
        ReviewDecision.objects.filter(version__in=scored.filter(WENT_TO_REVIEW).values("pk"))
        .order_by()
        .values_list("action")
        .annotate(n=Count("*"))
    )
    return ManualIntervention(
        total=total,
        flagged=flagged,
        share=flagged / total if total else None,
        approve=decided.get(ReviewAction.APPROVE, 0),
        reject=decided.get(ReviewAction.REJECT, 0),
        reprocess=decided.get(ReviewAction.REPROCESS, 0),
    )


def manual_intervention(start: datetime, end: datetime, filters: Filters | None = None) -> ManualIntervention:
    """How many versions scored in the range needed a person, and what people decided.

    `total`: versions with scored_at in the range. `flagged`: those of them that
    went to review (see WENT_TO_REVIEW: status FLAGGED, REJECTED or SUPERSEDED, or
    reviewed_at set). `share` = flagged / total. The decision split counts the
    ReviewDecisions of those same versions, whenever they were decided, so it
    describes the same cohort as `share`.
    """
    scored = _scored(start, end, filters)
    return _intervention(scored, _scored_buckets(scored))


# --- compute cost -----------------------------------------------------------


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


def _computed(start: datetime, end: datetime, filters: Filters | None) -> QuerySet[ImageVersion]:
    return (
        _versions(filters, compute_seconds__isnull=False)
        .alias(finished_at=_finished_at())
        .filter(finished_at__gte=start, finished_at__lt=end)
    )


@dataclass(frozen=True)
class DailyCost:
    day: date
    versions: int
    cost: float
    cpu_seconds: float
    gpu_seconds: float


@dataclass(frozen=True)
class ComputeCost:
    versions: int
    cpu_seconds: float
    gpu_seconds: float
    cost: float
    cost_per_image: float | None

    @classmethod
    def of_days(cls, days: list[DailyCost]) -> ComputeCost:
        """The range's total from cost_per_day's rows, so the page reads the range once."""
        versions, cost = sum(d.versions for d in days), sum(d.cost for d in days)
        return cls(
            versions=versions,
            cpu_seconds=sum(d.cpu_seconds for d in days),
            gpu_seconds=sum(d.gpu_seconds for d in days),
            cost=cost,
            cost_per_image=cost / versions if versions else None,
        )


def _cost_columns() -> dict[str, Aggregate]:
    return {
        "versions": Count("*"),
        "cost": _cost_expression(),
        "cpu_seconds": Sum("compute_seconds", filter=~Q(compute_device="gpu"), default=0.0),
        "gpu_seconds": Sum("compute_seconds", filter=Q(compute_device="gpu"), default=0.0),
    }


def compute_cost(start: datetime, end: datetime, filters: Filters | None = None) -> ComputeCost:
    """Model compute spent on versions that finished processing (scored or failed) in the range.

    Seconds come from compute_seconds, priced per compute_device with
    LIGHTBOX_GPU_SECOND_PRICE for "gpu" and LIGHTBOX_CPU_SECOND_PRICE otherwise.
    """
    row = _computed(start, end, filters).aggregate(**_cost_columns())
    cost_per_image = row["cost"] / row["versions"] if row["versions"] else None
    return ComputeCost(cost_per_image=cost_per_image, **row)


def cost_per_day(start: datetime, end: datetime, filters: Filters | None = None) -> list[DailyCost]:
    """compute_cost per day (current time zone, UTC), oldest first; days without finished
    work are left out. `ComputeCost.of_days` sums them back to compute_cost."""
    return cost_breakdown(start, end, filters).days


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


def _tier_starts(start: datetime, end: datetime) -> list[tuple[datetime, datetime, uuid.UUID]]:
    """(month start, finished_at, id) of the first version of each tier but the first that
    some month reaches before `end`: the version finished N-th in its month, N a threshold,
    in (finished, id) order, over all versions. Oldest first.

    Each month is walked once along the finished-time index: to the first threshold with
    OFFSET, then from that version on to the next.
    """
    found = []
    thresholds = [low for low, _ in settings.LIGHTBOX_VOLUME_TIERS]
    for month_start, month_end in _months(start, end):
        walk = (
            ImageVersion.objects.filter(compute_seconds__isnull=False)
            .annotate(finished_at=_finished_at())
            .filter(finished_at__gte=month_start, finished_at__lt=min(month_end, end))
            .order_by("finished_at", "pk")
            .values_list("finished_at", "pk")
        )
        for previous, low in itertools.pairwise(thresholds):
            first = walk[low - previous : low - previous + 1].first()
            if first is None:
                break  # the month ended (or the range did) before this tier
            found.append((month_start, *first))
            # The rest of the walk starts at this version (keyset: the >= is the index
            # range, the OR settles ties on the time).
            at, pk = first
            walk = walk.filter(finished_at__gte=at).filter(Q(finished_at__gt=at) | Q(pk__gte=pk))
    return found


@dataclass(frozen=True)
class CostBreakdown:
    days: list[DailyCost]
    tiers: list[VolumeTier]

    @property
    def total(self) -> ComputeCost:
        return ComputeCost.of_days(self.days)


def cost_breakdown(start: datetime, end: datetime, filters: Filters | None = None) -> CostBreakdown:
    """compute_cost per day and per volume tier, from one pass over the range.

    Tiers (LIGHTBOX_VOLUME_TIERS) are all listed, empty ones too. A version's tier depends
    on how many versions, of any brand or batch, finished before it in its calendar month
    (current time zone; ties by id): with "0:1.0,10000:0.8" the first 10,000 of a month are
    priced at list, the rest at 80%. So the count starts at the month's beginning even when
    the range starts later, and filters narrow which versions are reported, never how they
    are ranked.

    Rather than rank every version (a sort of whole months), the first version of each
    tier is found per month by walking the index (_tier_starts). A tier changes only there,
    so a day without such a version is in one tier, and only the few days with one are
    read again, split at it.
    """
    computed = _computed(start, end, filters)
    days = [
        DailyCost(**row)
        for row in computed.annotate(day=TruncDate(_finished_at()))
        .values("day")
        .annotate(**_cost_columns())
        .order_by("day")
    ]
    return CostBreakdown(days=days, tiers=volume_tiers(start, end, filters, days))


def volume_tiers(
    start: datetime, end: datetime, filters: Filters | None, days: list[DailyCost]
) -> list[VolumeTier]:
    """cost_breakdown's tiers from the range's per-day costs (`days`, as cost_per_day gives them,
    possibly from insights.daycache): only the days where a tier starts are read again."""
    computed = _computed(start, end, filters)
    tier_starts = _tier_starts(start, end)
    in_tier: dict[int, tuple[int, float]] = {}

    def add(tier: int, versions: int, cost: float) -> None:
        before = in_tier.get(tier, (0, 0.0))
        in_tier[tier] = (before[0] + versions, before[1] + cost)

    tz = timezone.get_current_timezone()
    for day in days:
        day_start = datetime.combine(day.day, time.min, tzinfo=tz)
        day_end = datetime.combine(day.day + timedelta(days=1), time.min, tzinfo=tz)
        month_start = day_start.replace(day=1)
        in_month = [(at, pk) for month, at, pk in tier_starts if month == month_start]
        tier = 1 + sum(1 for at, _ in in_month if at < day_start)
        splits = [(at, pk) for at, pk in in_month if day_start <= at < day_end]
        if not splits:
            add(tier, day.versions, day.cost)
            continue
        at_tier: Expression = Value(tier)
        for at, pk in splits:
            reached = Q(finished_at__gt=at) | Q(finished_at=at, pk__gte=pk)
            at_tier = at_tier + Case(When(reached, then=Value(1)), default=Value(0))
        for n, versions, cost in (
            computed.filter(finished_at__gte=max(day_start, start), finished_at__lt=min(day_end, end))  # type: ignore[misc]
            .annotate(tier=at_tier)
            .values("tier")
            .annotate(versions=Count("*"), cost=_cost_expression())
            .order_by()
            .values_list("tier", "versions", "cost")
        ):
            add(n, versions, cost)
    tiers = settings.LIGHTBOX_VOLUME_TIERS
    volume = []
    for n, (label, (_, factor)) in enumerate(zip(_tier_labels(tiers), tiers, strict=True), start=1):
        versions, list_cost = in_tier.get(n, (0, 0.0))
        tiered = list_cost * factor
        volume.append(
            VolumeTier(label, factor, versions, list_cost, tiered, tiered / versions if versions else None)
        )
    return volume


def cost_per_volume_tier(start: datetime, end: datetime, filters: Filters | None = None) -> list[VolumeTier]:
    """cost_breakdown's volume tiers: compute_cost's versions split by LIGHTBOX_VOLUME_TIERS."""
    return cost_breakdown(start, end, filters).tiers


# --- first-pass compliance --------------------------------------------------


@dataclass(frozen=True)
class ProfileCompliance:
    profile: str
    renditions_first_attempt: int
    passed_first_attempt: int
    rate: float | None
    # Versions that became blocked on the profile in the range: below its minimum (never
    # rendered, so not among the attempts) or with a rendition that failed its checks.
    blocked: int = 0


def first_pass_compliance(
    start: datetime, end: datetime, filters: Filters | None = None
) -> list[ProfileCompliance]:
    """Per profile slug, the share of first-attempt renditions made in the range that passed,
    and the channels blocked in the range (BlockedChannel.created_at).

    Renditions not checked yet (compliance_passed is None) are not counted.
    """
    filters = filters or NO_FILTERS
    qs = Rendition.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        first_attempt=True,
        compliance_passed__isnull=False,
    ).filter(filters.catalog_q(prefix="version__"))
    if filters.profile is not None:
        qs = qs.filter(profile__slug=filters.profile)
    # Grouped by the id the index holds; the few slugs are looked up after.
    counts: dict[int, list[int]] = {
        row["profile_id"]: [row["first"], row["passed"], 0]
        for row in qs.values("profile_id")
        .annotate(first=Count("*"), passed=Count(Value(1), filter=Q(compliance_passed=True)))
        .order_by()
    }
    for profile_id, blocked in (
        blocked_channels(start, end, filters).values_list("profile_id").annotate(n=Count("*")).order_by()
    ):
        counts.setdefault(profile_id, [0, 0, 0])[2] = blocked
    slugs = dict(MarketplaceProfile.objects.filter(pk__in=list(counts)).values_list("pk", "slug"))
    return sorted(
        (
            ProfileCompliance(slugs[pk], first, passed, passed / first if first else None, blocked)
            for pk, (first, passed, blocked) in counts.items()
        ),
        key=lambda row: row.profile,
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


# --- throughput, scores, reasons --------------------------------------------


@dataclass(frozen=True)
class HourlyThroughput:
    hour: datetime
    published: int


def throughput_per_hour(
    start: datetime, end: datetime, filters: Filters | None = None
) -> list[HourlyThroughput]:
    """Versions published per hour (current time zone, UTC), every hour the range touches, zero-filled."""
    counts = dict(
        _versions(filters, published_at__gte=start, published_at__lt=end)
        .annotate(hour=TruncHour("published_at"))
        .values("hour")
        .annotate(published=Count("*"))
        .values_list("hour", "published")
    )
    hours = []
    # Truncate in the time zone TruncHour used, so the hours line up with the counts.
    hour = timezone.localtime(start).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        hours.append(HourlyThroughput(hour, counts.get(hour, 0)))
        hour += timedelta(hours=1)
    return hours


@dataclass(frozen=True)
class ScoreBucket:
    low: int
    high: int  # inclusive
    count: int


def _score_buckets(buckets: list[tuple[int | None, int, int]]) -> list[ScoreBucket]:
    counts = {bucket: n for bucket, n, _ in buckets if bucket is not None}
    last = 100 // SCORE_BUCKET_WIDTH - 1
    return [
        ScoreBucket(
            low=i * SCORE_BUCKET_WIDTH,
            high=100 if i == last else (i + 1) * SCORE_BUCKET_WIDTH - 1,
            count=counts.get(i, 0),
        )
        for i in range(last + 1)
    ]


def score_distribution(start: datetime, end: datetime, filters: Filters | None = None) -> list[ScoreBucket]:
    """Quality scores of versions scored in the range, in ten buckets: 0–9, 10–19, … 90–100."""
    return _score_buckets(_scored_buckets(_scored(start, end, filters)))


@dataclass(frozen=True)
class ScoredBreakdown:
    intervention: ManualIntervention
    scores: list[ScoreBucket]


def scored_breakdown(start: datetime, end: datetime, filters: Filters | None = None) -> ScoredBreakdown:
    """manual_intervention and score_distribution from one pass over the scored range."""
    scored = _scored(start, end, filters)
    buckets = _scored_buckets(scored)
    return ScoredBreakdown(_intervention(scored, buckets), _score_buckets(buckets))


def flag_reasons_ranked(
    start: datetime, end: datetime, filters: Filters | None = None
) -> list[tuple[str, int]]:
    """(reason code, versions) over versions scored in the range that went to review,
    most frequent first, ties by code. A code repeated on one version counts once."""
    flagged = (
        _versions(filters, scored_at__gte=start, scored_at__lt=end)
        .filter(WENT_TO_REVIEW)
        .order_by()
        .values("reasons")
    )
    return [(code, count) for code, count in count_reason_codes(flagged)]
