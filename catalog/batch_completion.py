"""A batch is complete when it is closed and every version in it left processing.

Checked after the commit of each version's move out of processing, so the last
committer sees every other version settled; the sweeper checks again as a backstop.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from catalog.models import ImageVersion, UploadBatch


def finish_batch_after_commit(sender: Any, version: ImageVersion, status: str, **kwargs: Any) -> None:
    if status in ImageVersion.ACTIVE_STATES:
        return
    batch_id = ImageVersion.objects.filter(pk=version.pk).values_list("source__batch_id", flat=True).first()
    if batch_id is None:
        return
    transaction.on_commit(lambda: UploadBatch(pk=batch_id).finish_if_settled())


def finish_settled_batches() -> int:
    """Finish every closed batch whose versions have all settled; the number finished."""
    open_batches = UploadBatch.objects.filter(closed_at__isnull=False, finished_at__isnull=True)
    return sum(batch.finish_if_settled() for batch in open_batches.only("pk"))
