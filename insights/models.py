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
