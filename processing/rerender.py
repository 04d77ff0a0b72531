"""Re-render every published version for a profile that changed, as a tracked run, and
record each one's blocked channels again under the profiles' current rules.

The run walks the published versions in chunks, one job per chunk, so no job
outlives its timeout and progress shows on the run as it goes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import F
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
    jobs.queue_rerender_chunk(run.pk, None)
    return run


def rerender_chunk(run_id: int, after: str | None) -> str:
    """Re-render the next CHUNK published versions after `after`, then queue the rest."""
    run = RerenderRun.objects.select_related("profile").filter(pk=run_id).first()
    if run is None or run.finished_at:
        return "nothing to do"
    versions = _published().select_related("source__product")
    if after:
        versions = versions.filter(pk__gt=after)
    chunk = list(versions[:CHUNK])
    for version in chunk:
        try:
            rerender_published(version)
            RerenderRun.objects.filter(pk=run.pk).update(done=F("done") + 1)
        except Exception:  # noqa: BLE001 - one bad master must not stop the run
            logger.exception("re-render of %s failed", version.pk)
            RerenderRun.objects.filter(pk=run.pk).update(done=F("done") + 1, failed=F("failed") + 1)
    if len(chunk) < CHUNK:
        RerenderRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
        return "finished"
    jobs.queue_rerender_chunk(run.pk, str(chunk[-1].pk))
    return "continued"
