"""From a version that passed the gate (or was approved) to PUBLISHED."""

from __future__ import annotations

import logging

from catalog.models import ImageVersion, InvalidTransition, Priority

logger = logging.getLogger("lightbox.jobs")
RENDER_JOB = "processing.publishing.render_version"


def enqueue_rendering(version: ImageVersion) -> None:
    import django_rq
    from rq import Retry

    queue = django_rq.get_queue(Priority(version.priority).queue_name)
    queue.enqueue(
        RENDER_JOB, str(version.pk), job_id=f"render-{version.pk}", retry=Retry(max=3, interval=[10, 60, 300])
    )


def render_version(version_id: str) -> str:
    """Publish a version in RENDERING.

    Marketplace renditions and their compliance checks are the next stage to
    land here (issue: marketplace renditions); until then a version that passed
    the gate, or that a reviewer approved, is published from its master.
    """
    version = ImageVersion.objects.filter(pk=version_id).first()
    if version is None:
        return "missing"
    if not version.master:
        version.fail("cannot publish: the version has no master image")
        return "failed"
    try:
        published = version.publish()
    except InvalidTransition:
        return f"nothing to do ({version.status})"
    return "published" if published else "already published"
