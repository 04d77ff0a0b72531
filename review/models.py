"""The reviewers' decisions: the review app's one model."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import ImageVersion


class ReviewAction(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REPROCESS = "reprocess", "Reprocess"
    CORRECT = "correct", "Correct the mask"


class ReviewDecision(models.Model):
    """A reviewer's decision on a flagged version: who, what, why, when."""

    Action = ReviewAction

    version = models.ForeignKey(ImageVersion, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)
    options = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)
    seconds_open = models.FloatField(
        null=True, blank=True, help_text="From the reviewer's claim (page open) to the decision."
    )

    class Meta:
        # Moved from catalog without copying a row (review 0003): the table, its constraints
        # and index keep catalog's names.
        db_table = "catalog_reviewdecision"
        ordering = ["-decided_at"]
        constraints = [
            # One decision per version: the conditional transition guards it, this proves it.
            models.UniqueConstraint(
                fields=["version"],
                name="catalog_reviewdecision_one_per_version",
                violation_error_message="This version has already been decided.",
            ),
            models.CheckConstraint(
                condition=Q(action__in=ReviewAction.values),
                name="catalog_reviewdecision_action_valid",
                violation_error_message="Unknown review action.",
            ),
            models.CheckConstraint(
                condition=~Q(action="reject") | ~Q(reason=""),
                name="catalog_reviewdecision_reject_has_reason",
                violation_error_message="A rejection needs a reason.",
            ),
        ]
        indexes = [
            # Dashboard: decision split over a time range.
            models.Index(fields=["decided_at", "action"], name="catalog_decision_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.version_id} by {self.reviewer_id}"
