"""An import's own record: a ZIP being read or a URL being fetched into a batch.

Redis only carries the job that works on it; the row says how far the work got (the
archive's next unread entry), how often it stopped without finishing and why, so a
flushed queue or a killed worker never leaves a batch open with the rest of a ZIP
unread. The sweeper (processing.sweeper) puts a lost or stalled import back on the
queue, and after LIGHTBOX_MAX_ATTEMPTS stops it ends FAILED with its reason.

A run holds the import through `claim_token`: every step it records is an UPDATE
guarded on that token, so a run the sweeper gave up on (it was only slow) stops at
its next step instead of reading the same entries twice.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class IntakeKind(models.TextChoices):
    ARCHIVE = "archive", "ZIP archive"
    URL = "url", "Photo by URL"


class IntakeStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class IntakeJob(models.Model):
    Kind = IntakeKind
    Status = IntakeStatus
    ACTIVE_STATES: ClassVar[tuple[str, ...]] = (IntakeStatus.QUEUED, IntakeStatus.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey("catalog.UploadBatch", on_delete=models.CASCADE, related_name="intake_jobs")
    kind = models.CharField(max_length=16, choices=IntakeKind.choices)
    status = models.CharField(max_length=16, choices=IntakeStatus.choices, default=IntakeStatus.QUEUED)
    archive_name = models.CharField(max_length=255, blank=True, help_text="The stored ZIP (archive imports).")
    url = models.TextField(blank=True, help_text="The photo's address (URL imports).")
    # URL imports: {"sku", "user_id", "role", "close"}.
    params = models.JSONField(default=dict, blank=True)
    manifest_read = models.BooleanField(default=False, help_text="The ZIP's CSV manifest was taken in.")
    cursor = models.PositiveIntegerField(default=0, help_text="Archive entries taken in so far.")
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs that stopped without finishing.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The running job's last step.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=IntakeStatus.values),
                name="catalog_intakejob_status_valid",
                violation_error_message="Unknown import status.",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(last_error=""),
                name="catalog_intakejob_failure_explained",
                violation_error_message="A failed import says why.",
            ),
        ]
        indexes = [
            # The sweeper: imports still queued or running.
            models.Index(
                fields=["status", "heartbeat_at"],
                name="catalog_intake_active_idx",
                condition=Q(status__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} into {self.batch_id} [{self.status}]"

    @property
    def rq_job_id(self) -> str:
        """The RQ job of the next run: new after each slice and each rescue, so a finished
        run's record in Redis never stands for the run queued after it."""
        return f"intake-{self.pk}-{self.cursor}-{self.attempts}"

    def claim(self) -> uuid.UUID | None:
        """QUEUED → RUNNING for one run; the token its steps are guarded on, or None."""
        token = uuid.uuid4()
        now = timezone.now()
        claimed = IntakeJob.objects.filter(pk=self.pk, status=IntakeStatus.QUEUED).update(
            status=IntakeStatus.RUNNING,
            claim_token=token,
            started_at=now,
            heartbeat_at=now,
        )
        return token if claimed else None

    def held(self, token: uuid.UUID) -> models.QuerySet[IntakeJob]:
        """This import, only while the run holding `token` still has it."""
        return IntakeJob.objects.filter(pk=self.pk, status=IntakeStatus.RUNNING, claim_token=token)

    def step(self, token: uuid.UUID, **fields: Any) -> bool:
        """Record a step of the run holding `token` (inside the step's transaction, so the
        step and the record commit together); False when the run lost the import."""
        return bool(self.held(token).update(heartbeat_at=timezone.now(), **fields))

    def release(self, token: uuid.UUID) -> bool:
        """RUNNING → QUEUED between slices of a long archive; the next run continues."""
        return bool(self.held(token).update(status=IntakeStatus.QUEUED, claim_token=None))

    def finish(self, token: uuid.UUID) -> bool:
        return bool(
            self.held(token).update(status=IntakeStatus.DONE, finished_at=timezone.now(), claim_token=None)
        )

    def give_up(self, reason: str) -> bool:
        """Any active state → FAILED with the reason; the batch is the caller's to close."""
        return bool(
            IntakeJob.objects.filter(pk=self.pk, status__in=self.ACTIVE_STATES).update(
                status=IntakeStatus.FAILED,
                last_error=reason[:2000] or "unknown error",
                finished_at=timezone.now(),
                claim_token=None,
            )
        )

    def rescue(self, reason: str) -> bool:
        """A run that stopped without finishing (RUNNING, no step for the stale timeout):
        back to QUEUED with the attempt counted and the reason kept."""
        return bool(
            IntakeJob.objects.filter(
                pk=self.pk, status=IntakeStatus.RUNNING, heartbeat_at=self.heartbeat_at
            ).update(
                status=IntakeStatus.QUEUED,
                claim_token=None,
                attempts=F("attempts") + 1,
                last_error=reason[:2000],
            )
        )
