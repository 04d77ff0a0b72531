from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin

from processing.models import CategoryThresholds, RerenderRun
from processing.thresholds import available_models, model_label


class CategoryThresholdsForm(forms.ModelForm):
    class Meta:
        model = CategoryThresholds
        fields = ["category", "overrides", "model_name", "mannequin_colour", "ghost_replaces_main"]

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
    list_display = ["category", "overrides", "segmentation_model", "mannequin_colour", "updated_at"]
    search_fields = ["category"]

    @admin.display(description="Segmentation model", ordering="model_name")
    def segmentation_model(self, obj: CategoryThresholds) -> str:
        return obj.model_name or f"default ({settings.LIGHTBOX_MODEL_NAME})"


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
