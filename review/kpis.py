"""KPIs for the operations dashboard, each aggregated in PostgreSQL over a time range.

Every function takes a half-open range `start <= t < end` of aware datetimes and,
where it makes sense, optional `Filters` (brand, category, upload batch, profile
slug). Which timestamp a KPI ranges over is stated on the function: publication
KPIs use `published_at`, quality KPIs `scored_at`, compliance `Rendition.created_at`.
Empty ranges give zero counts and None for averages, shares and percentiles.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Expression,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Extract, Least, TruncDate, TruncHour
from django.utils import timezone

from catalog.models import ImageVersion, Rendition, ReviewAction, VersionStatus

# A version "went to a person" when it reached FLAGGED: it is there now, a reviewer
# moved it on (rejected, superseded, or approved and stamped reviewed_at), or a
# ReviewDecision names it. Only FLAGGED leads to REJECTED and SUPERSEDED.
WENT_TO_REVIEW = (
    Q(status__in=(VersionStatus.FLAGGED, VersionStatus.REJECTED, VersionStatus.SUPERSEDED))
    | Q(reviewed_at__isnull=False)
    | Q(decisions__isnull=False)
)

SCORE_BUCKET_WIDTH = 10


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
    """PostgreSQL `percentile_cont(fraction) WITHIN GROUP (ORDER BY expr)`."""

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
        # A version belongs to a profile when it has a rendition for it. Filtering by
        # id keeps a version with several such renditions from being counted twice.
        qs = ImageVersion.objects.filter(
            pk__in=qs.filter(renditions__profile__slug=filters.profile).values("pk")
        )
    return qs


def _seconds_between(earlier: str, later: str) -> Cast:
    # percentile_cont takes double precision; EXTRACT(EPOCH …) gives numeric.
    return Cast(Extract(F(later) - F(earlier), "epoch"), FloatField())


# --- time to publication ----------------------------------------------------


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
    seconds = _seconds_between("queued_at", "published_at")
    row = _versions(filters, published_at__gte=start, published_at__lt=end).aggregate(
        count=Count("pk"),
        median_seconds=Percentile(seconds, 0.5),
        p90_seconds=Percentile(seconds, 0.9),
        p95_seconds=Percentile(seconds, 0.95),
    )
    return TimeToPublication(**row)


# --- manual intervention ----------------------------------------------------


@dataclass(frozen=True)
class ManualIntervention:
    total: int
    flagged: int
    share: float | None
    approve: int
    reject: int
    reprocess: int


def manual_intervention(start: datetime, end: datetime, filters: Filters | None = None) -> ManualIntervention:
    """How many versions scored in the range needed a person, and what people decided.

    `total`: versions with scored_at in the range. `flagged`: those of them that
    went to review (see WENT_TO_REVIEW: status FLAGGED, REJECTED or SUPERSEDED,
    reviewed_at set, or a ReviewDecision exists). `share` = flagged / total.
    The decision split counts the ReviewDecisions of those same versions, whenever
    they were decided, so it describes the same cohort as `share`.
    """
    scored = _versions(filters, scored_at__gte=start, scored_at__lt=end)
    row = scored.aggregate(
        total=Count("pk", distinct=True),
        flagged=Count("pk", filter=WENT_TO_REVIEW, distinct=True),
        approve=Count("decisions", filter=Q(decisions__action=ReviewAction.APPROVE)),
        reject=Count("decisions", filter=Q(decisions__action=ReviewAction.REJECT)),
        reprocess=Count("decisions", filter=Q(decisions__action=ReviewAction.REPROCESS)),
    )
    share = row["flagged"] / row["total"] if row["total"] else None
    return ManualIntervention(share=share, **row)


# --- compute cost -----------------------------------------------------------


def _finished_at() -> Coalesce:
    # Compute is spent by the time a version is scored, or when it fails trying.
    return Coalesce("scored_at", "failed_at")


def _cost_expression() -> Sum:
    # Anything not run on a GPU (cpu, or blank on old rows) is charged at the CPU price.
    return Sum(
        Case(
            When(
                compute_device="gpu",
                then=F("compute_seconds") * Value(settings.LIGHTBOX_GPU_SECOND_PRICE),
            ),
            default=F("compute_seconds") * Value(settings.LIGHTBOX_CPU_SECOND_PRICE),
            output_field=FloatField(),
        ),
        default=0.0,
    )


def _computed(start: datetime, end: datetime, filters: Filters | None) -> QuerySet[ImageVersion]:
    return (
        _versions(filters, compute_seconds__isnull=False)
        .alias(finished_at=_finished_at())
        .filter(finished_at__gte=start, finished_at__lt=end)
    )


@dataclass(frozen=True)
class ComputeCost:
    versions: int
    cpu_seconds: float
    gpu_seconds: float
    cost: float
    cost_per_image: float | None


def compute_cost(start: datetime, end: datetime, filters: Filters | None = None) -> ComputeCost:
    """Model compute spent on versions that finished processing (scored or failed) in the range.

    Seconds come from compute_seconds, priced per compute_device with
    LIGHTBOX_GPU_SECOND_PRICE for "gpu" and LIGHTBOX_CPU_SECOND_PRICE otherwise.
    """
    row = _computed(start, end, filters).aggregate(
        versions=Count("pk"),
        cpu_seconds=Sum("compute_seconds", filter=~Q(compute_device="gpu"), default=0.0),
        gpu_seconds=Sum("compute_seconds", filter=Q(compute_device="gpu"), default=0.0),
        cost=_cost_expression(),
    )
    cost_per_image = row["cost"] / row["versions"] if row["versions"] else None
    return ComputeCost(cost_per_image=cost_per_image, **row)


@dataclass(frozen=True)
class DailyCost:
    day: date
    versions: int
    cost: float


def cost_per_day(start: datetime, end: datetime, filters: Filters | None = None) -> list[DailyCost]:
    """compute_cost's versions and cost per day (current time zone, UTC), oldest first.

    Days without finished work are left out.
    """
    rows = (
        _computed(start, end, filters)
        .annotate(day=TruncDate(_finished_at()))
        .values("day")
        .annotate(versions=Count("pk"), cost=_cost_expression())
        .order_by("day")
    )
    return [DailyCost(**row) for row in rows]


# --- first-pass compliance --------------------------------------------------


@dataclass(frozen=True)
class ProfileCompliance:
    profile: str
    renditions_first_attempt: int
    passed_first_attempt: int
    rate: float | None


def first_pass_compliance(
    start: datetime, end: datetime, filters: Filters | None = None
) -> list[ProfileCompliance]:
    """Per profile slug, the share of first-attempt renditions made in the range that passed.

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
    rows = (
        qs.values(profile_slug=F("profile__slug"))
        .annotate(
            renditions_first_attempt=Count("pk"),
            passed_first_attempt=Count("pk", filter=Q(compliance_passed=True)),
        )
        .order_by("profile_slug")
    )
    return [
        ProfileCompliance(
            profile=row["profile_slug"],
            renditions_first_attempt=row["renditions_first_attempt"],
            passed_first_attempt=row["passed_first_attempt"],
            rate=row["passed_first_attempt"] / row["renditions_first_attempt"],
        )
        for row in rows
    ]


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
        .annotate(published=Count("pk"))
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


def score_distribution(start: datetime, end: datetime, filters: Filters | None = None) -> list[ScoreBucket]:
    """Quality scores of versions scored in the range, in ten buckets: 0–9, 10–19, … 90–100."""
    last = 100 // SCORE_BUCKET_WIDTH - 1
    counts = dict(
        _versions(filters, scored_at__gte=start, scored_at__lt=end, score__isnull=False)
        # Integer division; 100 joins the 90s bucket.
        .annotate(bucket=Least(F("score") / Value(SCORE_BUCKET_WIDTH), Value(last)))
        .values("bucket")
        .annotate(count=Count("pk"))
        .values_list("bucket", "count")
    )
    return [
        ScoreBucket(
            low=i * SCORE_BUCKET_WIDTH,
            high=100 if i == last else (i + 1) * SCORE_BUCKET_WIDTH - 1,
            count=counts.get(i, 0),
        )
        for i in range(last + 1)
    ]


def flag_reasons_ranked(
    start: datetime, end: datetime, filters: Filters | None = None
) -> list[tuple[str, int]]:
    """(reason code, versions) over versions scored in the range that went to review,
    most frequent first, ties by code. A code repeated on one version counts once."""
    flagged = _versions(filters, scored_at__gte=start, scored_at__lt=end).filter(WENT_TO_REVIEW)
    versions = ImageVersion.objects.filter(pk__in=flagged.values("pk")).order_by().values("id", "reasons")
    inner_sql, params = versions.query.sql_with_params()
    # Django has no derived tables: the versions query is compiled by the ORM (its values
    # are parameters) and unnested here with jsonb_array_elements.
    sql = (
        "SELECT r.elem ->> 'code' AS code, COUNT(DISTINCT v.id) AS n "  # noqa: S608
        f"FROM ({inner_sql}) AS v "
        "CROSS JOIN LATERAL jsonb_array_elements("
        "  CASE WHEN jsonb_typeof(v.reasons) = 'array' THEN v.reasons ELSE '[]'::jsonb END"
        ") AS r(elem) "
        "WHERE r.elem ->> 'code' IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(code, count) for code, count in cursor.fetchall()]
