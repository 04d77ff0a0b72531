"""/batches: upload batches, newest first, and one batch's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from catalog.api.errors import get_or_404
from catalog.api.operations import operation
from catalog.api.schemas import Page, PageParams, paginate
from catalog.models import UploadBatch
from catalog.upload_views import batch_progress

router = Router(tags=["batches"])


class BatchOut(Schema):
    id: UUID
    name: str
    source: str
    priority: int
    created_by: str | None = Field(description="Username of whoever started it.")
    created_at: datetime
    closed_at: datetime | None = Field(description="When the last file arrived.")
    finished_at: datetime | None = Field(description="When every photo was settled.")
    file_count: int
    rejected_count: int

    @staticmethod
    def resolve_created_by(batch: UploadBatch) -> str | None:
        return batch.created_by.get_username() if batch.created_by else None


class Progress(Schema):
    counts: dict[str, int] = Field(description="Versions per status.")
    total: int
    settled: int = Field(description="Versions no longer waiting for processing.")
    percent: int
    done: bool


class BatchDetail(BatchOut):
    progress: Progress
    errors: list[dict[str, Any]] = Field(description="Files refused at upload: [{file, reason}].")
    failures: list[dict[str, str]] = Field(description="Photos that failed processing: [{file, error}].")


class BatchPage(Page):
    items: list[BatchOut]


@operation(router, "GET", "/batches", perms=("catalog.view_uploadbatch",), response=BatchPage)
def list_batches(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    batches = UploadBatch.objects.select_related("created_by").order_by("-created_at", "id")
    return paginate(request, batches, page)


@operation(
    router,
    "GET",
    "/batches/{batch_id}",
    perms=("catalog.view_uploadbatch",),
    response=BatchDetail,
    errors=(404,),
    url_name="get_batch",
)
def get_batch(request: HttpRequest, batch_id: UUID) -> UploadBatch:
    batch = get_or_404(
        UploadBatch.objects.select_related("created_by"), f"No upload batch {batch_id}.", pk=batch_id
    )
    progress = batch_progress(batch)
    batch.progress = {  # type: ignore[attr-defined]
        "counts": {status: count for _label, count, status in progress["counts"]},
        **{key: progress[key] for key in ("total", "settled", "percent", "done")},
    }
    failures = [{"file": name, "error": error} for _id, name, error in progress["failures"]]
    batch.failures = failures  # type: ignore[attr-defined]
    return batch
