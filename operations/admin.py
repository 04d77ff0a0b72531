from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from operations.models import AlertState


@admin.register(AlertState)
class AlertStateAdmin(admin.ModelAdmin):
    """Where each alert stands; written by the sweeper only."""

    list_display = ("key", "active", "raised_at", "cleared_at", "message")
    list_filter = ("active", "kind")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
