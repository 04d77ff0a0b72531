from __future__ import annotations

from django.contrib import admin

from processing.models import CategoryThresholds


@admin.register(CategoryThresholds)
class CategoryThresholdsAdmin(admin.ModelAdmin):
    list_display = ["category", "overrides", "updated_at"]
    search_fields = ["category"]
