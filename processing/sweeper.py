"""PostgreSQL is the record of unfinished work; this puts lost work back on the queues.

RQ loses jobs when Redis is flushed or restarted without persistence, when a
worker is SIGKILLed without retries left, or when the process dies between the
database commit and the enqueue. Every QUEUED version whose job Redis no longer
holds, and every PROCESSING or RENDERING version older than the stale timeout,
is enqueued again. Jobs are idempotent, so a rare double enqueue is harmless.

Attempts are bounded: a version whose worker died LIGHTBOX_MAX_ATTEMPTS times (a photo
that crashes the decoder or runs the worker out of memory) is failed with that reason
instead of being rescued forever; the same holds for rendering runs. A version waiting
out an outage (retry_at ahead) is left to its scheduled retry.

The sweeper must outlive the outages it exists for: each step is isolated here, and the
`sweep` command's loop survives a whole sweep failing (processing.sweep_loop).

The other units of work keep their state in their own rows and have their own
step here, one call each: imports (catalog.intake.sweep), browser batches left
open (closed after LIGHTBOX_BATCH_IDLE_SECONDS), re-render runs, exports and
Shopify pushes; webhook deliveries are sent from their outbox. Each resumes from
where its row says it stopped, and ends with its reason after
LIGHTBOX_MAX_ATTEMPTS stops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from catalog.batch_completion import finish_settled_batches
from catalog.intake.sweep import close_idle_batches, sweep_imports
from catalog.models import ImageVersion, InvalidTransition, VersionStatus
from catalog.webhooks.delivery import deliver_due
from lightbox import jobs
from processing.rerender import sweep_rerender_runs

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
    # Other units of work brought back (catalog.intake.sweep, rerender, shopify).
    imports_resumed: int = 0
    batches_closed_idle: int = 0
    rerenders_resumed: int = 0
    pushes_resumed: int = 0
    # Versions failed because their attempts ran out (a worker died on each of them).
    gave_up: int = 0
    # Steps that raised (database or Redis down…): logged, and the next steps still ran.
    failed_steps: list[str] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return bool(
            self.requeued_lost
            or self.rescued_stale
            or self.rendering_resumed
            or self.exports_rescued
            or self.gave_up
            or self.imports_resumed
            or self.batches_closed_idle
            or self.rerenders_resumed
            or self.pushes_resumed
        )


def _job_status(job_id: str, connection) -> str | None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.serializers import JSONSerializer

    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return None
    return job.get_status(refresh=False)


def _job_alive(job_id: str, connection) -> bool:
    return _job_status(job_id, connection) in _ALIVE


def _due(now):
    """Not waiting out an outage (retry_at still ahead): the scheduled retry will come."""
    return Q(retry_at__isnull=True) | Q(retry_at__lte=now)


def _rescue_stale_processing(report: SweepReport, stale_before) -> None:
    for version in ImageVersion.objects.filter(
        status=VersionStatus.PROCESSING, started_at__lt=stale_before
    ).select_related("source__product"):
        try:
            if version.rescue_from_dead_worker(settings.LIGHTBOX_MAX_ATTEMPTS):
                jobs.queue_processing(version)
                report.rescued_stale += 1
            elif version.status == VersionStatus.FAILED:
                report.gave_up += 1
        except InvalidTransition:
            continue


def _requeue_lost(report: SweepReport, now, grace_seconds: int, connection) -> None:
    # Fresh rows get a grace period: their enqueue may be waiting for a commit.
    for version in (
        ImageVersion.objects.filter(
            _due(now), status=VersionStatus.QUEUED, queued_at__lt=now - timedelta(seconds=grace_seconds)
        )
        .select_related("source__product")
        .iterator(chunk_size=500)
    ):
        if not _job_alive(version.job_id, connection):
            jobs.queue_processing(version)
            report.requeued_lost += 1


def _resume_rendering(report: SweepReport, now, stale_before, grace_seconds: int, connection) -> None:
    """RENDERING versions whose render job is gone, or started so long ago that its worker
    must have died; each run was counted when it started, so a photo that kills the worker
    while rendering fails after LIGHTBOX_MAX_ATTEMPTS runs."""
    for version in ImageVersion.objects.filter(
        _due(now), status=VersionStatus.RENDERING, scored_at__lt=now - timedelta(seconds=grace_seconds)
    ).iterator(chunk_size=500):
        status = _job_status(jobs.render_job_id(version.pk), connection)
        died = status == "started" and (
            version.render_started_at is None or version.render_started_at < stale_before
        )
        if status in _ALIVE and not died:
            continue
        if version.render_attempts >= settings.LIGHTBOX_MAX_ATTEMPTS:
            try:
                version.fail(
                    f"rendering did not finish in {version.render_attempts} runs (the worker died "
                    f"or the job failed each time); last error: {version.error or 'none recorded'}"
                )
                report.gave_up += 1
            except InvalidTransition:
                pass
            continue
        jobs.queue_rendering(version)
        report.rendering_resumed += 1


def sweep(*, grace_seconds: int = 30) -> SweepReport:
    """One pass over unfinished work. Each step runs even when an earlier one failed (a
    step that needs Redis cannot stop one that needs only PostgreSQL); failures are
    logged and listed in the report, never raised."""
    import django_rq

    from catalog.exports.services import sweep_exports
    from catalog.shopify.jobs import sweep_pushes

    report = SweepReport()
    now = timezone.now()
    connection = django_rq.get_connection("default")
    stale_before = now - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS)

    def step(name: str, work) -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 - one failing step must not stop the others
            logger.exception("sweeper: %s failed", name)
            report.failed_steps.append(name)

    def finish_batches() -> None:
        report.batches_finished = finish_settled_batches()

    def deliver_webhooks() -> None:
        # Webhook retries and any first attempt whose RQ job was lost (PostgreSQL is the outbox).
        report.webhooks_sent = deliver_due()

    def rescue_exports() -> None:
        report.exports_rescued = sweep_exports(alive, grace_seconds=grace_seconds)

    def alive(job_id: str) -> bool:
        return _job_alive(job_id, connection)

    def resume_imports() -> None:
        report.imports_resumed = sweep_imports(alive, grace_seconds=grace_seconds)

    def close_idle() -> None:
        report.batches_closed_idle = close_idle_batches()

    def resume_rerenders() -> None:
        report.rerenders_resumed = sweep_rerender_runs(alive, grace_seconds=grace_seconds)

    def resume_pushes() -> None:
        report.pushes_resumed = sweep_pushes(alive, grace_seconds=grace_seconds)

    step("stale processing", lambda: _rescue_stale_processing(report, stale_before))
    step("lost jobs", lambda: _requeue_lost(report, now, grace_seconds, connection))
    step("rendering", lambda: _resume_rendering(report, now, stale_before, grace_seconds, connection))
    # Every other unit of work, by its own step (its row says how far it got); idle batches
    # are closed before settled ones are finished, so they complete in the same sweep.
    step("imports", resume_imports)
    step("idle batches", close_idle)
    step("re-render runs", resume_rerenders)
    step("batches", finish_batches)
    step("webhooks", deliver_webhooks)
    step("exports", rescue_exports)
    step("Shopify pushes", resume_pushes)

    if report.moved or report.failed_steps:
        logger.warning("sweeper: %s", report)
    for receiver, result in swept.send_robust(sender=SweepReport, report=report):
        if isinstance(result, Exception):
            logger.error("sweeper: %r failed", receiver, exc_info=result)
    return report
