from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from catalog.models import MannequinColour


class CategoryThresholds(models.Model):
    """Quality-gate overrides for one product category, on top of the settings defaults,
    and the segmentation model its photos go through."""

    category = models.CharField(max_length=120)
    overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text='Only the thresholds to change, e.g. {"pass_score": 80, "coverage_max": 0.97}.',
    )
    # Not a choices field: what may be chosen is what is provisioned on this machine (clean()).
    model_name = models.CharField(
        "segmentation model",
        max_length=64,
        blank=True,
        default="",
        help_text="Blank: the default model (LIGHTBOX_MODEL_NAME).",
    )
    mannequin_colour = models.CharField(
        max_length=8,
        choices=MannequinColour.choices,
        blank=True,
        help_text="Apparel of this category is shot on a mannequin of this colour: each main photo "
        "gets a ghost-mannequin master once its cut-out publishes (a batch's own setting wins).",
    )
    ghost_replaces_main = models.BooleanField(
        "ghost mannequin replaces the main image",
        default=False,
        help_text="Exports show the ghost-mannequin master as the main image instead of the cut-out; "
        "otherwise it comes second.",
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
        from processing.thresholds import model_choice_error

        errors: dict[str, str] = {}
        try:
            Thresholds.from_dict(self.overrides or {})
        except (TypeError, ValueError) as exc:
            errors["overrides"] = str(exc)
        if self.model_name and (error := model_choice_error(self.model_name)):
            errors["model_name"] = error
        if errors:
            raise ValidationError(errors)


class RerenderRun(models.Model):
    """A tracked background batch: every published version re-rendered after a profile changed."""

    profile = models.ForeignKey("catalog.MarketplaceProfile", on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField()
    started_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last version re-rendered (versions go in primary-key order): a run that stopped
    # continues after it instead of starting over.
    cursor = models.CharField(max_length=36, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The running job's last step.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs that stopped without finishing.")
    error = models.TextField(blank=True, help_text="Why the run was given up, when it was.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")),
                name="processing_rerenderrun_done_within_total",
                violation_error_message="A run cannot finish more versions than it has.",
            ),
        ]

    def __str__(self) -> str:
        return f"Re-render {self.profile} r{self.revision}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)


class DurationTally(models.Model):
    """Prometheus histogram buckets for job and stage durations, kept in PostgreSQL so
    every worker, on any machine, adds to the same counts (processing.metrics).

    One row per (kind, name, outcome, bucket) holds the observations that fell in that
    bucket only; /metrics sums them into Prometheus' cumulative buckets at scrape time."""

    kind = models.CharField(max_length=16, help_text="job: a whole RQ job; stage: one pipeline stage.")
    name = models.CharField(max_length=64)
    outcome = models.CharField(max_length=40, blank=True)
    le = models.FloatField(help_text="The bucket's upper bound in seconds (Infinity for the last).")
    count = models.BigIntegerField(default=0)
    sum_seconds = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "name", "outcome", "le"], name="processing_durationtally_bucket_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} {self.outcome} ≤{self.le}s: {self.count}"


class GateTally(models.Model):
    """How often the quality gate passed or flagged a version, and for which reasons."""

    decision = models.CharField(max_length=16)
    reason = models.CharField(max_length=64, blank=True, help_text="A reason code; blank: the decision.")
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "reason"], name="processing_gatetally_once")
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.reason}: {self.count}"
