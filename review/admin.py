from __future__ import annotations

from django.contrib import admin

from review.models import ReviewDecision


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(admin.ModelAdmin):
    list_display = ["version", "action", "reason", "reviewer", "decided_at"]
    list_filter = ["action"]
    raw_id_fields = ["version"]
