"""FAILED is not a dead end: processing a failed version again, one, a selection or a batch's.

A retry moves the version FAILED → QUEUED through its guarded transition (fresh attempts,
the error cleared) and queues it once the transaction commits, on its batch's priority
queue. Its batch, if it had finished, is open again until the retried photos settle, and
then finishes (and sends `batch.completed`) again. Only a source's newest version can be
retried: one a reviewer reprocessed into a newer version is history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from catalog.models import ImageVersion, InvalidTransition, UploadBatch, VersionStatus
from lightbox import jobs


@dataclass
class RetryOutcome:
    retried: list[ImageVersion] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "SKU #1: why", for a message

    @property
    def count(self) -> int:
        return len(self.retried)


def retry_version(version: ImageVersion) -> bool:
    """Retry one FAILED version. True when it was queued again; False when it already was
    (a double click); InvalidTransition when it cannot be (not failed, or superseded)."""
    with transaction.atomic():
        if not version.retry():
            return False
        batch_id = version.source.batch_id
        if batch_id is not None:
            UploadBatch.objects.filter(pk=batch_id, finished_at__isnull=False).update(finished_at=None)
        jobs.queue_processing(version)
    return True


def retry_versions(versions: Iterable[ImageVersion]) -> RetryOutcome:
    """Retry each version on its own: one that cannot be retried is named in `refused`
    and the others go ahead."""
    outcome = RetryOutcome()
    for version in versions:
        try:
            if retry_version(version):
                outcome.retried.append(version)
        except InvalidTransition as exc:
            outcome.refused.append(f"{version.source.product.sku} #{version.source.position}: {exc}")
    return outcome


def retryable_failed() -> QuerySet[ImageVersion]:
    """FAILED versions that can be retried: the newest of their photo."""
    newer = ImageVersion.objects.filter(
        source_id=OuterRef("source_id"), lineage=OuterRef("lineage"), number__gt=OuterRef("number")
    )
    return ImageVersion.objects.filter(status=VersionStatus.FAILED).exclude(Exists(newer))


def failed_in_batch(batch: UploadBatch) -> QuerySet[ImageVersion]:
    """The batch's FAILED versions that can be retried."""
    return (
        retryable_failed()
        .filter(source__batch=batch)
        .select_related("source__product")
        .order_by("source__product__sku", "source__position")
    )


def retry_failed_in_batch(batch: UploadBatch, version_ids: Iterable[str] | None = None) -> RetryOutcome:
    """Retry the batch's failed versions: those in `version_ids`, or all of them."""
    versions = failed_in_batch(batch)
    if version_ids is not None:
        versions = versions.filter(pk__in=list(version_ids))
    return retry_versions(versions)
