"""Migration 0004: category overrides of thresholds whose signal was replaced are dropped,
the rest of each row kept."""

from __future__ import annotations

import pytest

from processing.models import CategoryThresholds
from processing.pipeline.quality import Thresholds
from tests.migration_steps import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("processing", "0003_category_model")]
AFTER = [("processing", "0004_retire_replaced_thresholds")]


def test_retired_threshold_overrides_are_dropped_and_the_others_kept():
    try:
        old = migrate(BEFORE).get_model("processing", "CategoryThresholds")
        old.objects.create(category="Shoes", overrides={"disagreement_max": 0.2, "pass_score": 80})
        old.objects.create(category="Lamps", overrides={"blur_min": 30.0})
        old.objects.create(category="Mugs", overrides={"coverage_max": 0.95})

        migrate(AFTER)

        overrides = dict(CategoryThresholds.objects.values_list("category", "overrides"))
        assert overrides == {"Shoes": {"pass_score": 80}, "Lamps": {}, "Mugs": {"coverage_max": 0.95}}
        for values in overrides.values():
            Thresholds.from_dict(values)  # every row is valid again
    finally:
        migrate(None)
        CategoryThresholds.objects.all().delete()
