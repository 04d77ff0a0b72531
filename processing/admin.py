from __future__ import annotations

from django.contrib import admin, messages

from catalog.models import MarketplaceProfile
from processing.models import CategoryThresholds, RerenderRun
from processing.profiles import MarketplaceProfileForm, spec_for
from processing.rerender import start_rerender


@admin.register(CategoryThresholds)
class CategoryThresholdsAdmin(admin.ModelAdmin):
    list_display = ["category", "overrides", "updated_at"]
    search_fields = ["category"]


@admin.register(MarketplaceProfile)
class MarketplaceProfileAdmin(admin.ModelAdmin):
    form = MarketplaceProfileForm
    list_display = [
        "name",
        "channel",
        "role",
        "canvas_width",
        "canvas_height",
        "output_format",
        "enabled",
        "revision",
    ]
    list_filter = ["channel", "enabled", "output_format"]
    search_fields = ["name", "slug"]
    readonly_fields = ["revision", "updated_at", "current_spec"]

    @admin.display(description="Spec")
    def current_spec(self, obj: MarketplaceProfile) -> str:
        return str(spec_for(obj)) if obj.pk else "—"

    def save_model(self, request, obj, form, change):
        before = MarketplaceProfile.objects.filter(pk=obj.pk).first() if change else None
        changed_output = (
            before is None
            or str(spec_for(before)) != str(spec_for(obj))
            or (obj.enabled and not before.enabled)
        )
        if before is not None and changed_output:
            obj.revision = before.revision + 1
        super().save_model(request, obj, form, change)
        if before is not None and changed_output and obj.enabled:
            run = start_rerender(obj, request.user)
            messages.info(
                request, f"Re-rendering {run.total} published image(s) for {obj.name} in the background."
            )


@admin.register(RerenderRun)
class RerenderRunAdmin(admin.ModelAdmin):
    list_display = [
        "profile",
        "revision",
        "started_by",
        "created_at",
        "total",
        "done",
        "failed",
        "finished_at",
    ]
    readonly_fields = [f.name for f in RerenderRun._meta.fields]
