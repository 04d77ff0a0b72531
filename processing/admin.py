from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages

from catalog.models import MarketplaceProfile
from processing.models import CategoryThresholds, RerenderRun
from processing.profiles import MarketplaceProfileForm, spec_for
from processing.rerender import start_rerender
from processing.thresholds import available_models, model_label


class CategoryThresholdsForm(forms.ModelForm):
    class Meta:
        model = CategoryThresholds
        fields = ["category", "overrides", "model_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The provisioned models, read when the form is built; a saved choice whose weights
        # have gone stays listed so the form shows it, and clean() says what is wrong.
        names = available_models()
        if self.instance.model_name and self.instance.model_name not in names:
            names.append(self.instance.model_name)
        default = [("", f"Default: {model_label(settings.LIGHTBOX_MODEL_NAME)}")]
        self.fields["model_name"].widget = forms.Select(
            choices=default + [(n, model_label(n)) for n in names]
        )


@admin.register(CategoryThresholds)
class CategoryThresholdsAdmin(admin.ModelAdmin):
    form = CategoryThresholdsForm
    list_display = ["category", "overrides", "segmentation_model", "updated_at"]
    search_fields = ["category"]

    @admin.display(description="Segmentation model", ordering="model_name")
    def segmentation_model(self, obj: CategoryThresholds) -> str:
        return obj.model_name or f"default ({settings.LIGHTBOX_MODEL_NAME})"


def _minimum(profile: MarketplaceProfile) -> tuple[int, int, str]:
    return profile.min_long_side, profile.min_short_side, (profile.checks or {}).get("min_size", "error")


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
        "required",
        "revision",
    ]
    list_filter = ["channel", "enabled", "required", "output_format"]
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
            # Which photos the profile blocks (processing.publishing.forecast).
            or _minimum(before) != _minimum(obj)
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
