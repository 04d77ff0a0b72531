"""The sweeper's steps for intake: imports Redis lost or a dead worker left running, and
browser batches whose uploads stopped arriving.

Called by processing.sweeper; each returns how many units it acted on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.intake.models import IntakeJob, IntakeStatus
from catalog.intake.service import give_up_import
from catalog.models import UploadBatch
from lightbox import jobs


def _queue(intake: IntakeJob) -> None:
    if intake.kind == IntakeJob.Kind.ARCHIVE:
        jobs.queue_archive_import(intake)
    else:
        jobs.queue_url_import(intake)


def sweep_imports(alive: Callable[[str], bool], *, grace_seconds: int = 30) -> int:
    """A RUNNING import with no step for the stale timeout stopped with its worker: it goes
    back to the queue and continues from its cursor, or, after LIGHTBOX_MAX_ATTEMPTS such
    stops, ends FAILED with the reason (its batch closed with what it has). A QUEUED one
    whose job Redis no longer holds is queued again."""
    now = timezone.now()
    acted = 0
    stale_before = now - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS)
    running = IntakeJob.objects.select_related("batch").filter(
        status=IntakeStatus.RUNNING, heartbeat_at__lt=stale_before
    )
    for intake in running:
        stops = intake.attempts + 1
        reason = f"the import stopped without finishing ({stops} time{'s' if stops > 1 else ''})"
        if stops >= settings.LIGHTBOX_MAX_ATTEMPTS:
            acted += give_up_import(
                intake,
                f"The import stopped {stops} times without finishing and was given up; "
                "the photos read before it stopped are in the batch.",
            )
        elif intake.rescue(reason):
            intake.refresh_from_db(fields=["attempts", "cursor"])
            _queue(intake)
            acted += 1
    waiting = (
        IntakeJob.objects.select_related("batch")
        .annotate(since=Coalesce("heartbeat_at", "created_at"))
        .filter(status=IntakeStatus.QUEUED, since__lt=now - timedelta(seconds=grace_seconds))
    )
    for intake in waiting:
        if not alive(intake.rq_job_id):
            _queue(intake)
            acted += 1
    return acted


def close_idle_batches() -> int:
    """Close every open browser batch no file has reached for LIGHTBOX_BATCH_IDLE_SECONDS
    and no import is still filling: its page was closed before it said it was done. It
    closes with the files it has and finishes (batch.completed) once they are processed."""
    idle_before = timezone.now() - timedelta(seconds=settings.LIGHTBOX_BATCH_IDLE_SECONDS)
    importing = IntakeJob.objects.filter(batch=OuterRef("pk"), status__in=IntakeJob.ACTIVE_STATES)
    idle = (
        UploadBatch.objects.annotate(last_seen=Coalesce("last_file_at", "created_at"))
        .filter(closed_at__isnull=True, source=UploadBatch.Source.BROWSER, last_seen__lt=idle_before)
        .exclude(Exists(importing))
    )
    minutes = settings.LIGHTBOX_BATCH_IDLE_SECONDS // 60
    reason = f"No file arrived for {minutes} minutes (the upload page was closed); closed with what it has."
    return sum(batch.close(reason=reason) for batch in idle.only("pk"))
