"""An export: one run of a deliverable (Shopify CSV, Amazon ZIP, Shopify push) for a scope.

The row is the record people see: who ran it, when, for what, how far it got, what
it produced and every product or image it left out with the reason. The work runs in
an RQ job (catalog.exports.jobs.run_export); status moves only by guarded UPDATEs.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.signals import export_completed


class ExportKind(models.TextChoices):
    SHOPIFY_CSV = "shopify_csv", "Shopify product CSV"
    AMAZON_ZIP = "amazon_zip", "Amazon image ZIP + inventory file"
    SHOPIFY_PUSH = "shopify_push", "Push to Shopify"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


DONE_STATES = (ExportStatus.SUCCEEDED, ExportStatus.FAILED)


def export_upload_to(instance: Export, filename: str) -> str:
    return f"exports/{instance.pk}/{filename}"


class Export(models.Model):
    Kind = ExportKind
    Status = ExportStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What was asked for, enough to run it again: {"products": [ids]}, {"filters": {...}},
    # {"batch": "uuid"} or {"product": id}.
    scope = models.JSONField(default=dict)
    scope_label = models.CharField(max_length=200, help_text="The scope in words, for the list.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_upload_to, blank=True, max_length=255)
    summary = models.JSONField(default=dict, blank=True, help_text="Counts: products, images, skipped…")
    skipped = models.JSONField(
        default=list, blank=True, help_text="Left out, each with its reason: [{sku, image, reason}]."
    )
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The running job's last step.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs that stopped without finishing.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")),
                name="exports_export_progress_within_total",
                violation_error_message="Progress cannot pass the total.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DONE_STATES, finished_at__isnull=False)
                | (Q(finished_at__isnull=True) & ~Q(status__in=DONE_STATES)),
                name="exports_export_finished_iff_done",
                violation_error_message="An export has a finish time exactly when it is done.",
            ),
        ]
        indexes = [
            # The export history, newest first, and one person's exports.
            models.Index(fields=["-created_at"], name="exports_export_created_idx"),
            models.Index(fields=["created_by", "-created_at"], name="exports_export_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.scope_label}"

    @property
    def done(self) -> bool:
        return self.status in DONE_STATES

    @property
    def percent(self) -> int:
        if self.done:
            return 100
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    def _move(self, sources: tuple[str, ...], target: str, **fields: Any) -> bool:
        with transaction.atomic():
            moved = Export.objects.filter(pk=self.pk, status__in=sources).update(status=target, **fields)
            if moved:
                self.refresh_from_db()
                if self.done:
                    export_completed.send(sender=Export, export=self)
        return bool(moved)

    def start(self, total: int) -> bool:
        """QUEUED → RUNNING with the number of steps; False when another run has it."""
        now = timezone.now()
        return self._move(
            (ExportStatus.QUEUED,),
            ExportStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            progress_total=total,
            progress_done=0,
        )

    def advance(self, steps: int = 1) -> None:
        Export.objects.filter(pk=self.pk, status=ExportStatus.RUNNING).update(
            progress_done=models.functions.Least(F("progress_done") + steps, F("progress_total")),
            heartbeat_at=timezone.now(),
        )

    def requeue_stopped(self, reason: str) -> bool:
        """RUNNING → QUEUED for a run that stopped without finishing (no step for the stale
        timeout): the stop is counted and the export runs again. Guarded on the heartbeat
        read, so a run that is only slow and steps meanwhile keeps it."""
        return bool(
            Export.objects.filter(
                pk=self.pk, status=ExportStatus.RUNNING, heartbeat_at=self.heartbeat_at
            ).update(status=ExportStatus.QUEUED, attempts=F("attempts") + 1, error=reason[:2000])
        )

    def succeed(self, summary: dict[str, Any], skipped: list[dict[str, Any]]) -> bool:
        return self._move(
            (ExportStatus.RUNNING,),
            ExportStatus.SUCCEEDED,
            finished_at=timezone.now(),
            progress_done=F("progress_total"),
            summary=summary,
            skipped=skipped,
            error="",
        )

    def fail(self, error: str, skipped: list[dict[str, Any]] | None = None) -> bool:
        return self._move(
            (ExportStatus.QUEUED, ExportStatus.RUNNING),
            ExportStatus.FAILED,
            finished_at=timezone.now(),
            error=error or "unknown error",
            skipped=skipped or [],
        )
