"""Forms for scene templates (upload, then marking) and scene rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from catalog.models import MarketplaceProfile, Product
from catalog.scenes.models import SceneRule, SceneTemplate


class TemplateUploadForm(forms.Form):
    name = forms.CharField(max_length=120)
    photo = forms.FileField(help_text="A photo of the place: a table top, a shelf, a room.")

    def clean_photo(self) -> bytes:
        photo = self.cleaned_data["photo"]
        if photo.size > settings.LIGHTBOX_MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The photo is larger than the upload limit.")
        data: bytes = photo.read()
        return data


class TemplateMarkingForm(forms.ModelForm):
    """The markings, in the photo's pixels (the page's marker fills them in as you draw)."""

    class Meta:
        model = SceneTemplate
        fields = [
            "name",
            "area_left",
            "area_top",
            "area_right",
            "area_bottom",
            "surface_y",
            "light_side",
            "area_width_cm",
            "default_share",
        ]
        widgets = {"light_side": forms.RadioSelect}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        template = self.instance
        left, top = data.get("area_left"), data.get("area_top")
        right, bottom, surface = data.get("area_right"), data.get("area_bottom"), data.get("surface_y")
        if left is None or top is None or right is None or bottom is None or surface is None:
            return data
        if not (left < right <= template.width and top < bottom <= template.height):
            raise forms.ValidationError(
                f"Draw the placement area inside the photo ({template.width}×{template.height} px)."
            )
        if not top < surface <= bottom:
            raise forms.ValidationError("Put the surface line inside the placement area.")
        return data


class RuleForm(forms.ModelForm):
    category = forms.ChoiceField(required=False)
    skus = forms.CharField(
        required=False,
        label="…or these products (SKUs, comma-separated)",
        widget=forms.TextInput(attrs={"placeholder": "MUG-001, VASE-002"}),
    )

    class Meta:
        model = SceneRule
        fields = ["template", "category", "profiles", "export_position", "enabled"]
        widgets = {"profiles": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories = (
            Product.objects.exclude(category="").order_by("category").values_list("category", flat=True)
        )
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)  # noqa: S101 - declared above
        category.choices = [("", "—"), *((c, c) for c in categories.distinct())]
        profiles = self.fields["profiles"]
        profiles.queryset = MarketplaceProfile.objects.filter(enabled=True).order_by("channel", "slug")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        skus = [s.strip() for s in (data.get("skus") or "").split(",") if s.strip()]
        found = list(Product.objects.filter(sku__in=skus))
        missing = sorted(set(skus) - {p.sku for p in found})
        if missing:
            self.add_error("skus", f"No product with SKU {', '.join(missing)}.")
        if not data.get("category") and not skus:
            raise forms.ValidationError("Choose a category or list the products the scene is for.")
        data["products"] = found
        return data

    def save(self, commit: bool = True) -> SceneRule:
        rule: SceneRule = super().save(commit=commit)
        if commit:
            rule.products.set(self.cleaned_data["products"])
        return rule
