"""PostgreSQL is the record of unfinished work; this puts lost work back on the queues.

RQ loses jobs when Redis is flushed or restarted without persistence, when a
worker is SIGKILLed without retries left, or when the process dies between the
database commit and the enqueue. Every QUEUED version whose job Redis no longer
holds, and every PROCESSING or RENDERING version older than the stale timeout,
is enqueued again. Jobs are idempotent, so a rare double enqueue is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.dispatch import Signal
from django.utils import timezone

from catalog.batch_completion import finish_settled_batches
from catalog.models import ImageVersion, InvalidTransition, VersionStatus
from catalog.webhooks.delivery import deliver_due
from lightbox import jobs

logger = logging.getLogger("lightbox.sweeper")
# A job in one of these states will still run; anything else (or no job) means lost.
_ALIVE = {"queued", "started", "scheduled", "deferred"}
# Sent after every sweep with `report`; the operations app checks its alerts on it.
swept = Signal()


@dataclass
class SweepReport:
    requeued_lost: int = 0
    rescued_stale: int = 0
    rendering_resumed: int = 0
    batches_finished: int = 0
    webhooks_sent: int = 0
    exports_rescued: int = 0


def _job_alive(job_id: str, connection) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.serializers import JSONSerializer

    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in _ALIVE


def sweep(*, grace_seconds: int = 30) -> SweepReport:
    import django_rq

    from catalog.exports.services import sweep_exports

    report = SweepReport()
    now = timezone.now()
    connection = django_rq.get_connection("default")
    stale_before = now - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS)

    for version in ImageVersion.objects.filter(
        status=VersionStatus.PROCESSING, started_at__lt=stale_before
    ).select_related("source__product"):
        try:
            if version.requeue(error="the worker stopped before finishing; processing again"):
                jobs.queue_processing(version)
                report.rescued_stale += 1
        except InvalidTransition:
            continue

    # Fresh rows get a grace period: their enqueue may be waiting for a commit.
    for version in (
        ImageVersion.objects.filter(
            status=VersionStatus.QUEUED, queued_at__lt=now - timedelta(seconds=grace_seconds)
        )
        .select_related("source__product")
        .iterator(chunk_size=500)
    ):
        if not _job_alive(version.job_id, connection):
            jobs.queue_processing(version)
            report.requeued_lost += 1

    for version in ImageVersion.objects.filter(
        status=VersionStatus.RENDERING, scored_at__lt=now - timedelta(seconds=grace_seconds)
    ).iterator(chunk_size=500):
        if not _job_alive(f"render-{version.pk}", connection):
            jobs.queue_rendering(version)
            report.rendering_resumed += 1

    report.batches_finished = finish_settled_batches()
    # Webhook retries and any first attempt whose RQ job was lost (PostgreSQL is the outbox).
    report.webhooks_sent = deliver_due()
    report.exports_rescued = sweep_exports(
        lambda job_id: _job_alive(job_id, connection), grace_seconds=grace_seconds
    )

    if report.requeued_lost or report.rescued_stale or report.rendering_resumed or report.exports_rescued:
        logger.warning("sweeper: %s", report)
    for receiver, result in swept.send_robust(sender=SweepReport, report=report):
        if isinstance(result, Exception):
            logger.error("sweeper: %r failed", receiver, exc_info=result)
    return report
