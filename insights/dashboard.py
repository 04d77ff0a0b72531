"""The operations dashboard: the range form, the KPIs for a range, and the live queue backlog."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

import django_rq
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from rq import Worker
from rq.registry import FailedJobRegistry

from catalog.models import ImageVersion, MarketplaceProfile, UploadBatch, VersionStatus
from insights import daycache, kpis
from insights.status_counts import versions_by_status
from insights.svg import Bar, bar_chart, histogram
from review.forms import reason_label

MAX_CUSTOM_DAYS = 366
RECENT_BATCHES = 50
# Up to a week, throughput is drawn per hour; beyond, per day.
HOURLY_BARS_UP_TO = 7 * 24 + 1


class DashboardForm(forms.Form):
    RANGES = (("today", "Today"), ("7d", "7 days"), ("30d", "30 days"), ("custom", "Custom"))

    range = forms.ChoiceField(choices=RANGES, required=False, initial="7d")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    brand = forms.CharField(required=False, max_length=120)
    category = forms.CharField(required=False, max_length=120)
    batch = forms.UUIDField(required=False, widget=forms.Select)
    profile = forms.ModelChoiceField(
        queryset=MarketplaceProfile.objects.order_by("channel", "slug"),
        to_field_name="slug",
        required=False,
        empty_label="Any profile",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The newest batches, and the chosen one when it is older; looked up when rendered.
        self.fields["batch"].widget.choices = cache(self._batch_choices)

    def _batch_choices(self) -> list[tuple[str, str]]:
        batches = list(UploadBatch.objects.order_by("-created_at")[:RECENT_BATCHES])
        chosen = self.cleaned_data.get("batch") if hasattr(self, "cleaned_data") else None
        if chosen and all(b.pk != chosen for b in batches):
            batches += UploadBatch.objects.filter(pk=chosen)
        return [("", "Any batch"), *((str(b.pk), str(b)) for b in batches)]

    def clean_batch(self) -> uuid.UUID | None:
        batch = self.cleaned_data.get("batch")
        if batch is not None and not UploadBatch.objects.filter(pk=batch).exists():
            raise forms.ValidationError("There is no upload batch with this id.")
        return batch

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("range") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError("A custom range needs a start and an end date.")
            if end < start:
                raise forms.ValidationError("The end date is before the start date.")
            if (end - start).days >= MAX_CUSTOM_DAYS:
                raise forms.ValidationError(f"A custom range is at most {MAX_CUSTOM_DAYS} days.")
        return data

    def period(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The half-open range [start, end) the valid form asks for; end dates are inclusive days."""
        now = timezone.localtime(now)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        choice = self.cleaned_data.get("range") or "7d"
        if choice == "custom":
            tz = timezone.get_current_timezone()
            start = datetime.combine(self.cleaned_data["start"], time.min, tzinfo=tz)
            end = datetime.combine(self.cleaned_data["end"], time.min, tzinfo=tz) + timedelta(days=1)
            return start, end
        if choice == "today":
            return midnight, now
        days = 30 if choice == "30d" else 7
        return now - timedelta(days=days), now

    def filters(self) -> kpis.Filters:
        profile = self.cleaned_data.get("profile")
        return kpis.Filters(
            brand=self.cleaned_data.get("brand") or None,
            category=self.cleaned_data.get("category") or None,
            batch=self.cleaned_data.get("batch"),
            profile=profile.slug if profile is not None else None,
        )


def human_duration(seconds: float | None) -> str:
    """1 h 5 min, 2 min 3 s, 45 s; an em dash for no value."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def dashboard_kpis(start: datetime, end: datetime, filters: kpis.Filters) -> dict[str, Any]:
    """Every figure of the dashboard page for one range, charts drawn."""
    with kpis.analytics():
        return _dashboard_kpis(start, end, filters)


def _dashboard_kpis(start: datetime, end: datetime, filters: kpis.Filters) -> dict[str, Any]:
    # Every range figure is composed from days, past days as stored; the rest stays live.
    per_hour = hours_touched(start, end) <= HOURLY_BARS_UP_TO
    figures = daycache.range_figures(start, end, filters, hourly=per_hour)
    ttp, ttp_daily, daily = figures.ttp, figures.ttp_daily, figures.cost_days
    scored, reasons = figures.scored, figures.reasons
    top_reason = max((n for _, n in reasons), default=0) or 1
    return {
        "ttp": ttp,
        "ttp_human": {
            "median": human_duration(ttp.median_seconds),
            "p90": human_duration(ttp.p90_seconds),
            "p95": human_duration(ttp.p95_seconds),
        },
        "ttp_chart": bar_chart(
            [
                Bar(
                    f"{d.day:%m-%d}",
                    d.median_seconds or 0,
                    f"{d.day}: median {human_duration(d.median_seconds)} ({d.count} published)",
                )
                for d in ttp_daily
            ],
            name="time-to-publication-per-day",
        ),
        "intervention": scored.intervention,
        "cost": figures.cost,
        "cost_chart": bar_chart(
            [Bar(f"{d.day:%m-%d}", d.cost, f"{d.day}: {d.cost:.4f} ({d.versions} versions)") for d in daily],
            name="cost-per-day",
        ),
        "tiers": kpis.volume_tiers(
            start,
            end,
            filters,
            daily,
            daycache.finished_per_day(start, end),
            daycache.finished_per_hour(start, end),
        ),
        "compliance": figures.compliance,
        "throughput_per": "hour" if per_hour else "day",
        "throughput_chart": (
            hourly_throughput_chart(figures.hourly) if per_hour else daily_throughput_chart(ttp_daily)
        ),
        "score_chart": histogram(
            [Bar(f"{b.low}", b.count, f"{b.low}–{b.high}: {b.count}") for b in scored.scores],
            name="score-distribution",
        ),
        "reasons": [
            {
                "code": code,
                "label": reason_label(code),
                "count": n,
                "width": round(100 * n / top_reason),
                "href": drill_down("review:queue", filters, reason=code),
            }
            for code, n in reasons
        ],
        "status_counts": status_counts(filters),
        "effort": figures.effort,
    }


def hours_touched(start: datetime, end: datetime) -> int:
    """How many clock hours the range touches (kpis.RangeFigures.hourly lists each)."""
    first = timezone.localtime(start).replace(minute=0, second=0, microsecond=0)
    return max(0, math.ceil((end - first) / timedelta(hours=1)))


def hourly_throughput_chart(hourly: list[kpis.HourlyThroughput]) -> SafeString:
    bars = [Bar(f"{h.hour:%H}", h.published, f"{h.hour:%Y-%m-%d %H:00}: {h.published}") for h in hourly]
    return bar_chart(bars, name="throughput-per-hour")


def daily_throughput_chart(days: list[kpis.DailyTimeToPublication]) -> SafeString:
    """Publications per day, for ranges over a week: a month of hourly bars (720) is too thin
    to read and heavy to send. The counts come with the daily medians, so no second pass."""
    bars = [Bar(f"{d.day:%m-%d}", d.count, f"{d.day}: {d.count}") for d in days]
    return bar_chart(bars, name="throughput-per-day")


def status_counts(filters: kpis.Filters) -> list[tuple[str, int, str]]:
    """(label, versions, product list link) now, over the brand, category and batch filters."""
    counts = versions_by_status(filters)
    return [
        (label, counts.get(value, 0), drill_down("catalog:product_list", filters, status=value))
        for value, label in VersionStatus.choices
    ]


def drill_down(url_name: str, filters: kpis.Filters, **params: str) -> str:
    """The list a figure counts, with the dashboard's brand, category and batch carried over.

    The review queue and the product list filter on these three; neither knows profiles
    (a version reaches a profile only once rendered), so a profile filter is not carried.
    """
    query = {"brand": filters.brand, "category": filters.category, "batch": filters.batch, **params}
    return f"{reverse(url_name)}?{urlencode({k: v for k, v in query.items() if v})}"


@dataclass(frozen=True)
class QueueBacklog:
    name: str
    waiting: int
    failed: int


@dataclass(frozen=True)
class Backlog:
    queues: list[QueueBacklog]
    oldest_queued_at: datetime | None
    workers: int

    @property
    def waiting(self) -> int:
        return sum(queue.waiting for queue in self.queues)

    @property
    def failed(self) -> int:
        return sum(queue.failed for queue in self.queues)

    @property
    def oldest_age(self) -> str:
        if self.oldest_queued_at is None:
            return "—"
        return human_duration((timezone.now() - self.oldest_queued_at).total_seconds())


def backlog() -> Backlog:
    """Jobs waiting and failed per RQ queue, workers alive, and the oldest version still queued."""
    queues = []
    connection = None
    for name in settings.QUEUE_NAMES:
        queue = django_rq.get_queue(name)
        connection = queue.connection
        queues.append(QueueBacklog(name, queue.count, FailedJobRegistry(queue=queue).count))
    workers = len(Worker.all(connection=connection)) if connection is not None else 0
    oldest = (
        ImageVersion.objects.filter(status=VersionStatus.QUEUED)
        .order_by("queued_at")
        .values_list("queued_at", flat=True)
        .first()
    )
    return Backlog(queues=queues, oldest_queued_at=oldest, workers=workers)


def alerts(current: Backlog, versions_in_range: int) -> list[str]:
    """Readable alerts when the backlog or the failure rate passes its settings limit.

    The failure rate is failed jobs (RQ's FailedJobRegistry, which keeps them for its own
    TTL) over versions queued in the shown range; with no versions queued there is no rate.
    """
    found = []
    if current.waiting > settings.LIGHTBOX_ALERT_BACKLOG:
        found.append(f"Backlog: {current.waiting} jobs waiting (limit {settings.LIGHTBOX_ALERT_BACKLOG}).")
    if versions_in_range:
        rate = current.failed / versions_in_range
        if rate > settings.LIGHTBOX_ALERT_FAILURE_RATE:
            found.append(
                f"Failure rate: {current.failed} failed jobs for {versions_in_range} versions "
                f"({rate:.1%}, limit {settings.LIGHTBOX_ALERT_FAILURE_RATE:.1%})."
            )
    return found


def versions_queued(start: datetime, end: datetime, filters: kpis.Filters) -> int:
    in_range = ImageVersion.objects.filter(queued_at__gte=start, queued_at__lt=end)
    return in_range.filter(filters.catalog_q()).count()
