"""Queue filters and the decision forms. Forms only parse; review.services decides."""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from catalog.models import ImageVersion, Product, UploadBatch
from processing.pipeline.quality import PENALTIES
from processing.thresholds import available_models, model_label
from review.services import REJECT_REASONS

# The quality gate's reason codes in plain words, for filters and counts.
REASON_LABELS: dict[str, str] = {
    "empty_mask": "No product found",
    "cut_off": "Product cut off by the frame",
    "missing_part": "Cut-out leaves out part of the product",
    "backdrop_included": "Cut-out takes in backdrop",
    "shadow_included": "Cut-out keeps the shadow",
    # Versions scored before the part-weighted gate still carry this code.
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
    # Lifestyle scenes' gate (processing.scenes).
    "scene_clipped": "Scene: product cut off by the frame",
    "scene_outside_area": "Scene: product outside the placement area",
    "scene_scale": "Scene: implausible scale",
}


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, code.replace("_", " ").capitalize())


ANY: list[tuple[str, str]] = [("", "Any")]


def distinct_values(column: str, limit: int = 200) -> list[str]:
    """Distinct non-empty values of a Product column in order, one index probe per value.

    A loose index scan over `catalog_product_<column>_idx`: ~60 probes for 60 brands
    instead of reading every product (PostgreSQL 15 does not plan a skip scan itself).
    """
    if column not in ("brand", "category"):
        raise ValueError(f"no index to hop through for {column!r}")
    table, col = connection.ops.quote_name(Product._meta.db_table), connection.ops.quote_name(column)
    sql = (
        f"WITH RECURSIVE v(value) AS (SELECT min({col}) FROM {table} WHERE {col} > '' "  # noqa: S608 - names above
        f"UNION ALL SELECT (SELECT min({col}) FROM {table} WHERE {col} > v.value) FROM v "
        f"WHERE v.value IS NOT NULL) SELECT value FROM v WHERE value IS NOT NULL LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


def batches_in_queue(limit: int = 100) -> list[tuple[str, str]]:
    """The newest batches with something to review (EXISTS probes, newest first, stops at `limit`)."""
    queued = ImageVersion.objects.filter(
        source__batch=OuterRef("pk"), status__in=ImageVersion.REVIEWABLE_STATES
    )
    batches = UploadBatch.objects.filter(Exists(queued)).order_by("-created_at")[:limit]
    return [(str(b.pk), str(b)) for b in batches]


class QueueFilterForm(forms.Form):
    """The queue's filters. Parsing one costs no query: decisions carry the filters on every
    request. The drop-downs' options are looked up only when the form is rendered."""

    reason = forms.ChoiceField(required=False, choices=ANY + [(c, reason_label(c)) for c in PENALTIES])
    brand = forms.CharField(required=False, max_length=120, widget=forms.Select)
    category = forms.CharField(required=False, max_length=120, widget=forms.Select)
    batch = forms.UUIDField(required=False, widget=forms.Select)
    score_min = forms.IntegerField(required=False, min_value=0, max_value=100, label="Score from")
    score_max = forms.IntegerField(required=False, min_value=0, max_value=100, label="Score to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Callables: Django calls them when the <select> is rendered, not before (and twice
        # then, for the required attribute too, hence the cache).
        self.fields["brand"].widget.choices = cache(lambda: ANY + [(b, b) for b in distinct_values("brand")])
        self.fields["category"].widget.choices = cache(
            lambda: ANY + [(c, c) for c in distinct_values("category")]
        )
        self.fields["batch"].widget.choices = cache(lambda: ANY + batches_in_queue())

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
            q &= Q(brand=data["brand"])
        if data["category"]:
            q &= Q(category=data["category"])
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
    # Not required: a post without it keeps the default model (the category's).
    model = forms.ChoiceField(required=False, widget=forms.RadioSelect, label="Model")
    use_model = forms.BooleanField(required=False, label="Cut out again with the model (drop the hand mask)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(name, model_label(name)) for name in available_models()]
        self.fields["model"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
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
            "model": data["model"] or None,
            "use_model": data["use_model"],
        }
