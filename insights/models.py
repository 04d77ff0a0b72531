"""The dashboard's stored days (insights.daycache)."""

from __future__ import annotations

from django.db import models


class DashboardDay(models.Model):
    """The figures of one past day, or one past hour of it (insights.kpis.DayFigures), for one set
    of dashboard filters.

    A table rather than Django's cache so that invalidation commits or rolls back with the
    change that caused it (insights.signals), and each test's transaction sees only its own rows.
    """

    day = models.DateField()
    hour = models.SmallIntegerField(
        null=True,
        blank=True,
        help_text="Hours since the day's local midnight for an hour's figures; empty for the whole day's.",
    )
    filters_key = models.TextField(
        help_text="Filters and time zone, as insights.daycache.filters_key writes them."
    )
    payload = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "hour", "filters_key"],
                nulls_distinct=False,
                name="insights_dashboardday_unique_day_filters",
                violation_error_message="This day is already cached for these filters.",
            ),
            # Its index (day first) also serves invalidation, which deletes days for any filters.
        ]

    def __str__(self) -> str:
        return f"{self.day}{'' if self.hour is None else f' +{self.hour} h'} {self.filters_key}"


class StatusCount(models.Model):
    """Versions per status, brand and category now, as deltas: the dashboard's status counts
    for a brand or category add up a few rows instead of counting a million versions.

    A statement trigger on catalog_imageversion (migration 0004) appends one row per (brand,
    category, status) a statement moves, +n or -n, so bulk updates and raw SQL are counted too
    and no row is ever updated in place (no lock for concurrent workers to wait on).
    insights.status_counts.compact folds each group's rows into one.
    """

    brand = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=16)
    versions = models.BigIntegerField(help_text="Versions added (or, negative, removed) by one statement.")

    class Meta:
        indexes = [
            models.Index(fields=["brand", "category", "status"], name="insights_statuscount_brand_idx"),
            models.Index(fields=["category"], name="insights_statuscount_cat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.brand}/{self.category}/{self.status}: {self.versions:+d}"
