"""Re-render every published version for a profile that changed, as a tracked run, and
record each one's blocked channels again under the profiles' current rules.

The run walks the published versions in primary-key order, in chunks, one job per
chunk, so no job outlives its timeout and progress shows on the run as it goes. The
run's row keeps the cursor (the last version done), moved with the counts by one UPDATE
guarded on the cursor it read: a chunk lost with Redis or a killed worker is resumed by
the sweeper from the cursor (`sweep_rerender_runs`), and two runners never count a
version twice. After LIGHTBOX_MAX_ATTEMPTS stops the run ends with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import ImageVersion, MarketplaceProfile
from lightbox import jobs
from processing.models import RerenderRun
from processing.publishing import rerender_published

logger = logging.getLogger("lightbox.jobs")
CHUNK = 25


def _published():
    return ImageVersion.objects.filter(status=ImageVersion.Status.PUBLISHED).order_by("pk")


def failed_versions_count() -> int:
    """FAILED versions a re-render run does not cover (it re-renders published ones): the
    admin is told, so they are retried rather than silently skipped."""
    from catalog.retries import retryable_failed

    return retryable_failed().count()


def start_rerender(profile: MarketplaceProfile, user: Any) -> RerenderRun:
    run = RerenderRun.objects.create(
        profile=profile, revision=profile.revision, started_by=user, total=_published().count()
    )
    # Queued once the admin's save commits.
    jobs.queue_rerender_chunk(run)
    return run


def rerender_chunk(run_id: int) -> str:
    """Re-render the next CHUNK published versions after the run's cursor, then queue the rest."""
    run = RerenderRun.objects.select_related("profile").filter(pk=run_id).first()
    if run is None or run.finished_at:
        return "nothing to do"
    versions = _published().select_related("source__product")
    if run.cursor:
        versions = versions.filter(pk__gt=run.cursor)
    chunk = list(versions[:CHUNK])
    for version in chunk:
        failed = 0
        try:
            rerender_published(version)
        except DatabaseError:
            raise  # the database is away: the run stops here and the sweeper resumes it
        except Exception:  # noqa: BLE001 - one bad master must not stop the run
            logger.exception("re-render of %s failed", version.pk)
            failed = 1
        moved = RerenderRun.objects.filter(pk=run.pk, cursor=run.cursor, finished_at__isnull=True).update(
            cursor=str(version.pk),
            done=F("done") + 1,
            failed=F("failed") + failed,
            heartbeat_at=timezone.now(),
        )
        if not moved:
            return "taken over"
        run.cursor = str(version.pk)
    if len(chunk) < CHUNK:
        RerenderRun.objects.filter(pk=run.pk, cursor=run.cursor).update(finished_at=timezone.now())
        return "finished"
    jobs.queue_rerender_chunk(run)
    return "continued"


def sweep_rerender_runs(alive: Callable[[str], bool], *, grace_seconds: int = 30) -> int:
    """Resume unfinished runs: one whose chunk made no step for the stale timeout (its worker
    died) counts a stop and goes on from its cursor, or ends with the reason after
    LIGHTBOX_MAX_ATTEMPTS stops; one whose next chunk Redis lost is queued again."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS)
    acted = 0
    unfinished = RerenderRun.objects.annotate(since=Coalesce("heartbeat_at", "created_at")).filter(
        finished_at__isnull=True, since__lt=now - timedelta(seconds=grace_seconds)
    )
    for run in unfinished:
        same = Q(pk=run.pk, cursor=run.cursor, attempts=run.attempts, finished_at__isnull=True)
        if run.since < stale_before:
            stops = run.attempts + 1
            if stops >= settings.LIGHTBOX_MAX_ATTEMPTS:
                acted += RerenderRun.objects.filter(same).update(
                    finished_at=now,
                    attempts=stops,
                    error=f"The run stopped {stops} times without finishing and was given up "
                    f"after {run.done} of {run.total} versions.",
                )
                continue
            if RerenderRun.objects.filter(same).update(attempts=stops, heartbeat_at=now):
                run.attempts = stops
                jobs.queue_rerender_chunk(run)
                acted += 1
        elif not alive(jobs.rerender_job_id(run)):
            jobs.queue_rerender_chunk(run)
            acted += 1
    return acted
