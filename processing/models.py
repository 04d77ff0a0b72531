from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class CategoryThresholds(models.Model):
    """Quality-gate overrides for one product category, on top of the settings defaults."""

    category = models.CharField(max_length=120)
    overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text='Only the thresholds to change, e.g. {"pass_score": 80, "coverage_max": 0.97}.',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "quality thresholds for a category"
        verbose_name_plural = "quality thresholds per category"
        constraints = [
            models.UniqueConstraint(
                fields=["category"],
                name="processing_categorythresholds_category_unique",
                violation_error_message="This category already has thresholds.",
            ),
            models.CheckConstraint(
                condition=~Q(category=""),
                name="processing_categorythresholds_category_named",
                violation_error_message="Name the category.",
            ),
        ]

    def __str__(self) -> str:
        return self.category

    def clean(self) -> None:
        from processing.pipeline.quality import Thresholds

        try:
            Thresholds.from_dict(self.overrides or {})
        except (TypeError, ValueError) as exc:
            raise ValidationError({"overrides": str(exc)}) from exc
