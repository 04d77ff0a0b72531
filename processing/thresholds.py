"""Which quality-gate thresholds apply to a product: settings defaults, then its category's overrides."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings

from processing.models import CategoryThresholds
from processing.pipeline.quality import Thresholds


def thresholds_for(category: str) -> Thresholds:
    values = dict(settings.LIGHTBOX_QUALITY_THRESHOLDS)
    if category:
        override = (
            CategoryThresholds.objects.filter(category=category).values_list("overrides", flat=True).first()
        )
        values.update(override or {})
    return Thresholds.from_dict(values)


def default_thresholds() -> dict:
    return asdict(Thresholds.from_dict(dict(settings.LIGHTBOX_QUALITY_THRESHOLDS)))
