"""Queue filters and the decision forms. Forms only parse; review.services decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from catalog.models import ImageVersion, Product, UploadBatch
from processing.pipeline.quality import PENALTIES
from review.services import REJECT_REASONS

# The quality gate's reason codes in plain words, for filters and counts.
REASON_LABELS: dict[str, str] = {
    "empty_mask": "No product found",
    "cut_off": "Product cut off by the frame",
    "mask_disagreement": "Cut-out disagrees with a second opinion",
    "low_resolution": "Resolution too low",
    "tiny_product": "Product too small in the photo",
    "implausible_coverage": "Implausible product coverage",
    "colour_shift": "Colours changed",
    "blurry": "Blurry",
    "exposure": "Over- or under-exposed",
    "uncertain_edges": "Uncertain edges",
    "fragmented_mask": "Cut-out in fragments",
    "holes": "Holes in the cut-out",
}


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, code.replace("_", " ").capitalize())


class QueueFilterForm(forms.Form):
    reason = forms.ChoiceField(required=False)
    brand = forms.ChoiceField(required=False)
    category = forms.ChoiceField(required=False)
    batch = forms.ChoiceField(required=False)
    score_min = forms.IntegerField(required=False, min_value=0, max_value=100, label="Score from")
    score_max = forms.IntegerField(required=False, min_value=0, max_value=100, label="Score to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        flagged = ImageVersion.objects.filter(status__in=ImageVersion.REVIEWABLE_STATES)
        products = Product.objects.filter(source_images__versions__in=flagged).distinct()
        any_ = [("", "Any")]
        self.fields["reason"].choices = any_ + [(c, reason_label(c)) for c in PENALTIES]
        self.fields["brand"].choices = any_ + [
            (b, b) for b in products.exclude(brand="").order_by("brand").values_list("brand", flat=True)
        ]
        self.fields["category"].choices = any_ + [
            (c, c)
            for c in products.exclude(category="").order_by("category").values_list("category", flat=True)
        ]
        batches = UploadBatch.objects.filter(source_images__versions__in=flagged).distinct()[:100]
        self.fields["batch"].choices = any_ + [(str(b.pk), str(b)) for b in batches]

    def query(self, *, without_reason: bool = False) -> Q:
        """The filters as a Q over ImageVersion; empty when the form is invalid."""
        if not self.is_valid():
            return Q()
        data = self.cleaned_data
        q = Q()
        if data["reason"] and not without_reason:
            # jsonb containment (@>): some element of the reasons list has this code.
            q &= Q(reasons__contains=[{"code": data["reason"]}])
        if data["brand"]:
            q &= Q(source__product__brand=data["brand"])
        if data["category"]:
            q &= Q(source__product__category=data["category"])
        if data["batch"]:
            q &= Q(source__batch_id=data["batch"])
        if data["score_min"] is not None:
            q &= Q(score__gte=data["score_min"])
        if data["score_max"] is not None:
            q &= Q(score__lte=data["score_max"])
        return q

    def querystring(self) -> str:
        """The active filters, to carry from the queue into decisions and back."""
        if not self.is_valid():
            return ""
        from django.http import QueryDict

        qd = QueryDict(mutable=True)
        for name, value in self.cleaned_data.items():
            if value not in (None, ""):
                qd[name] = str(value)
        return qd.urlencode()


class RejectForm(forms.Form):
    reason = forms.ChoiceField(choices=REJECT_REASONS, widget=forms.RadioSelect)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReprocessForm(forms.Form):
    refine_edges = forms.BooleanField(required=False, initial=True, label="Refine edges")
    shadow = forms.BooleanField(required=False, label="Soft shadow")
    crop_left = forms.IntegerField(required=False, min_value=0, label="Left")
    crop_top = forms.IntegerField(required=False, min_value=0, label="Top")
    crop_right = forms.IntegerField(required=False, min_value=1, label="Right")
    crop_bottom = forms.IntegerField(required=False, min_value=1, label="Bottom")
    pass_score = forms.IntegerField(required=False, min_value=0, max_value=100, label="Pass score")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        crop = [data.get(f"crop_{side}") for side in ("left", "top", "right", "bottom")]
        if any(v is not None for v in crop) and any(v is None for v in crop):
            raise forms.ValidationError("Give all four crop edges, or none.")
        return data

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        crop = [data[f"crop_{side}"] for side in ("left", "top", "right", "bottom")]
        return {
            "refine_edges": data["refine_edges"],
            "shadow": data["shadow"],
            "crop": crop if crop[0] is not None else None,
            "pass_score": data["pass_score"],
        }
