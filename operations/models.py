from __future__ import annotations

from django.db import models
from django.utils import timezone


class AlertState(models.Model):
    """Where one alert stands, so each episode is announced once when it starts and once
    when it clears, however many processes check (operations.alerts)."""

    key = models.CharField(max_length=200, unique=True, help_text='e.g. "backlog", "drift:Kitchen".')
    kind = models.CharField(max_length=32)
    active = models.BooleanField(default=False)
    raised_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True, help_text="The last announcement.")
    values = models.JSONField(default=dict, blank=True, help_text="What was measured then.")
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key} ({'active' if self.active else 'clear'})"
