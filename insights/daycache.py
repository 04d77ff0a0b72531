"""The dashboard's days, stored: past whole days of insights.kpis.compute_days in DashboardDay.

A range is its stored whole past days plus the rest (the partial first day of "30 days",
today, days not stored yet) computed now with insights.kpis.compute_days, composed by
insights.kpis.compose either way. Days missing when a page asks are computed for that page's
filters and stored. `roll_up` stores every past day ahead of the pages, with no filter and for
every single filter (each brand, category, upload batch and marketplace profile), grouped in
one pass per kind: `manage.py roll_up_dashboard`, run from cron, so that a first load reads
stored days rather than computing them. For brands, categories and batches it writes a row for
each value that has something on the day, and a marker row for the kind ("every brand of this
day is stored"): a value without its row on a marked day had nothing.

Only days that ended before the computation started are stored, keyed by the filters and the
time zone (days are local). insights.signals deletes the days a change touches, in the
change's transaction, markers included. Bulk updates that bypass the ORM's signals (a
`QuerySet.update` of timestamps, scores or compute seconds, raw SQL) are not seen: a stored day
older than MAX_AGE is computed again (roll_up refreshes days older than half of it), which
bounds how stale such a day can be. The same bound covers a load that reads a day just before
a change commits and stores it just after the change deleted it (READ COMMITTED), and a source
moved to another upload batch.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import cast

from django.db.models import Min, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from catalog.models import ImageVersion, MarketplaceProfile
from insights import kpis
from insights.models import DashboardDay
from review.effort import effort_per_period

# A stored day is trusted this long; then it is computed again (see the module docstring).
MAX_AGE = timedelta(hours=24)
# Days stored before the figures held a duration sketch (a day's median instead), the
# review effort and the cost per hour are read as missing, computed again and overwritten.
CURRENT_FORM = Q(payload__has_keys=["publication", "effort", "cost_hourly"])
# How far back roll_up goes at most: the longest custom range the dashboard takes.
ROLL_UP_DAYS = 366


def filters_key(filters: kpis.Filters) -> str:
    """The storage key of a set of filters; the time zone is in it because days are local."""
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


def marker_key(kind: str) -> str:
    """The key of the row saying every value of `kind` (a key of kpis.GROUPS) is stored for the day."""
    return json.dumps({"every": kind, "tz": timezone.get_current_timezone_name()}, sort_keys=True)


def _single_kind(filters: kpis.Filters) -> str | None:
    """The kind of filter when exactly one of brand, category or batch is set (and no profile)."""
    if filters.profile is not None:
        return None
    kinds = [kind for kind in kpis.GROUPS if getattr(filters, kind) is not None]
    return kinds[0] if len(kinds) == 1 else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def range_figures(
    start: datetime, end: datetime, filters: kpis.Filters, hourly: bool = True
) -> kpis.RangeFigures:
    """The range's figures: stored days and hours read, the others computed (and the past ones
    stored). A whole day of the range that is over is a day row; the rest of the range (the
    partial first day of "30 days", today) is its hours that are over, stored as hour rows,
    and the slivers of hours at either end, computed each time. Run inside kpis.analytics(),
    like the rest of the page."""
    now = timezone.now()
    days = kpis._days(start, end)
    whole = {
        day for day in days if _midnight(day) >= start and _midnight(day + timedelta(days=1)) <= min(end, now)
    }
    hours: list[datetime] = []  # starts of the edges' hours that are over, storable
    slivers: list[tuple[datetime, datetime]] = []  # the rest of the edges, computed each time
    for day in days:
        if day in whole:
            continue
        lo, hi = max(start, _midnight(day)), min(end, _midnight(day + timedelta(days=1)))
        for hour in kpis._hour_starts(lo, hi):
            after = hour + timedelta(hours=1)
            if hour >= lo and after <= min(hi, now):
                hours.append(hour)
            elif slivers and slivers[-1][1] == max(lo, hour):
                slivers[-1] = (slivers[-1][0], min(hi, after))
            else:
                slivers.append((max(lo, hour), min(hi, after)))
    by_day, by_hour = _stored(filters, whole, hours, now)
    fresh: list[DashboardDay] = []
    key = filters_key(filters)
    for lo, hi in _missing_runs(start, end, days, set(by_day) | (set(days) - whole)):
        for (day, _), figures in kpis.compute_days(lo, hi, filters).items():
            by_day[day] = figures
            if day in whole:
                fresh.append(
                    DashboardDay(day=day, filters_key=key, payload=figures.as_json(), computed_at=now)
                )
    for lo, hi in _runs([hour for hour in hours if hour not in by_hour]):
        for (start_of_hour, _), figures in kpis.compute_days(lo, hi, filters, per="hour").items():
            start_of_hour = cast(datetime, start_of_hour)  # per hour, the keys are the hours' starts
            by_hour[start_of_hour] = figures
            on_day, index = _day_and_hour(start_of_hour)
            fresh.append(
                DashboardDay(
                    day=on_day, hour=index, filters_key=key, payload=figures.as_json(), computed_at=now
                )
            )
    _store(fresh)
    parts: dict[date, list[kpis.DayFigures]] = {day: [] for day in days if day not in whole}
    for hour in hours:
        parts[timezone.localdate(hour)].append(by_hour[hour])
    for lo, hi in slivers:
        for (day, _), figures in kpis.compute_days(lo, hi, filters).items():
            parts[day].append(figures)
    by_day.update({day: kpis.DayFigures.merged(figures) for day, figures in parts.items()})
    return kpis.compose(start, end, [(day, by_day[day]) for day in days], hourly)


def _stored_unfiltered_days(start: datetime, end: datetime) -> QuerySet[DashboardDay]:
    """The fresh stored days, no filter, of the months the range touches."""
    month_start = timezone.localtime(start).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return DashboardDay.objects.filter(
        filters_key=filters_key(kpis.NO_FILTERS),
        hour__isnull=True,
        day__gte=month_start.date(),
        day__lt=timezone.localdate(end) + timedelta(days=1),
        computed_at__gt=timezone.now() - MAX_AGE,
    ).filter(CURRENT_FORM)


def finished_per_day(start: datetime, end: datetime) -> dict[date, int]:
    """Versions finished each stored day (unfiltered) of the months the range touches, for
    kpis.volume_tiers: read from the JSON in PostgreSQL, without loading the days' figures."""
    return {
        day: int(n or 0)
        for day, n in _stored_unfiltered_days(start, end).values_list(
            "day", KeyTextTransform("0", KeyTransform("cost", "payload"))
        )
    }


def finished_per_hour(start: datetime, end: datetime) -> StoredHours:
    """Versions finished in each clock hour (unfiltered) of the same stored days, for
    kpis.volume_tiers: in a day where a tier starts, it walks from the hour it starts in."""
    return StoredHours(_stored_unfiltered_days(start, end))


class StoredHours(Mapping[date, dict[datetime, int]]):
    """{day: {hour's start: versions finished}}, each day read when asked for: the walk needs
    the hours of the few days where a tier starts, not the JSON of every day of the range."""

    def __init__(self, days: QuerySet[DashboardDay]) -> None:
        self._days = days
        self._read: dict[date, dict[datetime, int]] = {}

    @cached_property
    def _known(self) -> set[date]:
        return set(self._days.values_list("day", flat=True))

    def __getitem__(self, day: date) -> dict[datetime, int]:
        if day not in self._known:
            raise KeyError(day)
        if day not in self._read:
            hours = self._days.filter(day=day).values_list(KeyTransform("cost_hourly", "payload"), flat=True)
            self._read[day] = {hour: n for hour, (n, _) in kpis.EpochHours(hours.first() or {}).items()}
        return self._read[day]

    def __contains__(self, day: object) -> bool:
        return day in self._known

    def __iter__(self) -> Iterator[date]:
        return iter(sorted(self._known))

    def __len__(self) -> int:
        return len(self._known)


def _day_and_hour(hour: datetime) -> tuple[date, int]:
    """The local day an hour starts in, and the hours since that day's midnight."""
    day = timezone.localdate(hour)
    return day, int((hour - _midnight(day)).total_seconds() // 3600)


def _runs(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hours as [lo, hi) spans."""
    runs: list[tuple[datetime, datetime]] = []
    for hour in sorted(hours):
        after = hour + timedelta(hours=1)
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], after)
        else:
            runs.append((hour, after))
    return runs


def _stored(
    filters: kpis.Filters, days: set[date], hours: list[datetime], now: datetime
) -> tuple[dict[date, kpis.DayFigures], dict[datetime, kpis.DayFigures]]:
    """The stored figures of these whole days and these hours for these filters, fresh ones only."""
    key = filters_key(filters)
    kind = _single_kind(filters)
    keys = [key] if kind is None else [key, marker_key(kind)]
    wanted_hours = {_day_and_hour(hour): hour for hour in hours}
    found: dict[date, kpis.DayFigures] = {}
    found_hours: dict[datetime, kpis.DayFigures] = {}
    marked: dict[date, kpis.DayFigures] = {}
    rows = (
        DashboardDay.objects.filter(filters_key__in=keys, computed_at__gt=now - MAX_AGE)
        # Spans of days rather than lists: a year of dates as parameters cost more than the read.
        .filter(_within(days, hour__isnull=True) | _within({d for d, _ in wanted_hours}, hour__isnull=False))
        .filter(CURRENT_FORM)
        .values_list("pk", "computed_at", "day", "hour", "filters_key")
    )
    decoded = _decoded_figures([(pk, at) for pk, at, *_ in rows])
    for pk, computed_at, day, hour, row_key in rows:
        figures = decoded.get((pk, computed_at))
        if figures is None or (hour is None and day not in days):
            continue  # recomputed or deleted since the first read (its newer self is in `decoded`)
        if hour is not None:
            if row_key == key and (day, hour) in wanted_hours:
                found_hours[wanted_hours[(day, hour)]] = figures
        elif row_key == key:
            found[day] = figures
        else:
            marked[day] = kpis.DayFigures(effort=figures.effort)
    # A marked day without the value's row: the value had nothing that day (but the effort,
    # over all products, the marker holds).
    return marked | found, found_hours


# A stored row is never changed in place: recomputing a day writes a new computed_at with its
# payload. So a process keeps the figures it decoded, by (row, computed_at), and a repeated page
# reads and decodes only the rows it has not seen (the JSON of a year of days is most of a
# stored range's cost). Treat them as read-only: every page shares them.
DECODED_KEPT = 8192
_decoded: OrderedDict[tuple[int, datetime], kpis.DayFigures] = OrderedDict()
_decoded_lock = threading.Lock()


def _decoded_figures(rows: list[tuple[int, datetime]]) -> dict[tuple[int, datetime], kpis.DayFigures]:
    """The figures of these stored rows, (pk, computed_at): kept ones, and the rest read now."""
    with _decoded_lock:
        kept = {row: _decoded[row] for row in rows if row in _decoded}
        for row in kept:
            _decoded.move_to_end(row)
    missing = [pk for pk, at in rows if (pk, at) not in kept]
    read = {
        (pk, at): kpis.DayFigures.from_json(payload)
        for pk, at, payload in DashboardDay.objects.filter(pk__in=missing).values_list(
            "pk", "computed_at", "payload"
        )
    }
    with _decoded_lock:
        _decoded.update(read)
        while len(_decoded) > DECODED_KEPT:
            _decoded.popitem(last=False)
    return kept | read


def forget_decoded() -> None:
    """Drop the process's decoded figures (what a fresh web worker starts with)."""
    with _decoded_lock:
        _decoded.clear()


def _within(days: set[date], **lookups: object) -> Q:
    """Rows of the span from the first to the last of these days (none when there are none)."""
    if not days:
        return Q(pk__in=[])
    return Q(day__gte=min(days), day__lte=max(days), **lookups)


def _store(rows: list[DashboardDay]) -> None:
    if rows:
        DashboardDay.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["day", "hour", "filters_key"],
            update_fields=["payload", "computed_at"],
            batch_size=1000,
        )


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


@dataclass(frozen=True)
class RollUp:
    days: int  # past days looked at
    rows: int  # rows written


def roll_up(now: datetime | None = None, *, days: int = ROLL_UP_DAYS) -> RollUp:
    """Store every past whole day (up to `days` back, from the month of the first version) that is
    missing or older than half of MAX_AGE: with no filter, for each single brand, category and
    batch (one grouped pass per kind, plus its marker), and for each marketplace profile."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = ImageVersion.objects.aggregate(first=Min("queued_at"))["first"]
    if first is None:
        return RollUp(0, 0)
    # From the first of the month the first version came in: kpis.volume_tiers counts a
    # month's versions from its first day.
    oldest = max(timezone.localdate(first).replace(day=1), today - timedelta(days=days))
    past = [oldest + timedelta(days=n) for n in range((today - oldest).days)]
    refresh_before = now - MAX_AGE / 2
    written = 0

    def due(key: str) -> list[tuple[datetime, datetime]]:
        fresh = set(
            DashboardDay.objects.filter(
                filters_key=key, day__in=past, hour__isnull=True, computed_at__gt=refresh_before
            )
            .filter(CURRENT_FORM)
            .values_list("day", flat=True)
        )
        return _missing_runs(_midnight(past[0]), _midnight(today), past, fresh) if past else []

    def store(computed: Iterable[tuple[str, date, kpis.DayFigures]]) -> None:
        nonlocal written
        rows = [
            DashboardDay(day=day, filters_key=key, payload=figures.as_json(), computed_at=now)
            for key, day, figures in computed
        ]
        _store(rows)
        written += len(rows)

    with kpis.analytics():
        for lo, hi in due(filters_key(kpis.NO_FILTERS)):
            computed = kpis.compute_days(lo, hi)
            store((filters_key(kpis.NO_FILTERS), day, figures) for (day, _), figures in computed.items())
        for kind in kpis.GROUPS:
            for lo, hi in due(marker_key(kind)):
                computed = kpis.compute_days(lo, hi, by=kind)
                store(
                    (filters_key(kpis.Filters(**{kind: value})), day, figures)
                    for (day, value), figures in computed.items()
                    if value is not None  # a photo outside any batch is in no batch's figures
                )
                efforts = effort_per_period(lo, hi)
                store(
                    (marker_key(kind), day, kpis.DayFigures(effort=efforts.get(day, {})))
                    for day in kpis._days(lo, hi)
                )
        for slug in MarketplaceProfile.objects.order_by("slug").values_list("slug", flat=True):
            profile = kpis.Filters(profile=slug)
            for lo, hi in due(filters_key(profile)):
                computed = kpis.compute_days(lo, hi, profile)
                store((filters_key(profile), day, figures) for (day, _), figures in computed.items())
    return RollUp(len(past), written)
