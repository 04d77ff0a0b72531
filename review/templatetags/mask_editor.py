"""{% mask_editor version query %}: the mask touch-up panel of a decision page."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse

from catalog.models import ImageVersion, MarketplaceProfile
from processing.thresholds import available_models
from review.mask_edit import editor_context

register = template.Library()

FIX_LABELS = {
    "fill_holes": "Fill holes",
    "keep_largest": "Keep the largest object",
    "drop_shadow": "Drop the shadow",
    "stronger_model": "Cut out again with the stronger model",
}


@register.inclusion_tag("review/_mask_editor.html", takes_context=True)
def mask_editor(context: dict[str, Any], version: ImageVersion, query: str = "") -> dict[str, Any]:
    data = editor_context(version)
    suffix = f"?{query}" if query else ""
    main = (
        MarketplaceProfile.objects.filter(enabled=True, role=MarketplaceProfile.Role.MAIN)
        .order_by("channel", "slug")
        .first()
    )
    stronger = settings.LIGHTBOX_CASCADE_MODEL
    fixes = [
        {"op": op, "label": label, "suggested": op in data["suggested"]}
        for op, label in FIX_LABELS.items()
        if op != "stronger_model" or (stronger and stronger in available_models())
    ]
    return {
        "version": version,
        "csrf_token": context.get("csrf_token"),
        "full": data["full_size"],
        "work": data["work_size"],
        "mask_box": ",".join(str(v) for v in data["mask_box"]),
        "profile_bg": main.background_color if main else "#ffffff",
        "profile_name": main.name if main else "",
        "save_url": reverse("review:save_mask", args=[version.pk]) + suffix,
        "fix_url": reverse("review:fix_mask", args=[version.pk]),
        "stronger_model": stronger,
        "fixes": fixes,
        "grow_suggested": "grow_at" in data["suggested"],
        "keep_suggested": "keep_clicked" in data["suggested"],
    }
