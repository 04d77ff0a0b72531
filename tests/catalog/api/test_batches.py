"""/batches: newest first with totals, and one batch's progress by status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import UploadBatch, VersionStatus
from tests.catalog.api.conftest import assert_error

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def test_batches_are_listed_newest_first_with_a_total(api_as, reviewer, merchandiser):
    made = [
        UploadBatch.objects.create(name=f"b{n}", created_by=merchandiser, created_at=T0 + timedelta(days=n))
        for n in range(3)
    ]
    client = api_as(reviewer)
    body = client.get("/api/v1/batches", {"limit": 2}).json()
    assert body["total"] == 3
    assert [b["name"] for b in body["items"]] == ["b2", "b1"]
    assert body["items"][0]["created_by"] == "mia-merchandiser"
    assert [b["id"] for b in client.get(body["next"]).json()["items"]] == [str(made[0].pk)]


def test_a_batch_shows_its_progress_by_status_and_its_refusals(
    api_as, reviewer, merchandiser, product, make_version
):
    batch = UploadBatch.objects.create(name="spring", created_by=merchandiser, closed_at=T0)
    for status in (VersionStatus.QUEUED, VersionStatus.FLAGGED, VersionStatus.FLAGGED):
        version = make_version(product, status=status)
        version.source.batch = batch
        version.source.save()
    failed = make_version(product, status=VersionStatus.FAILED, error="The JPEG is truncated.")
    failed.source.batch = batch
    failed.source.save()
    batch.record_refusal("notes.txt", "This is not a photo Lightbox can read.")

    body = api_as(reviewer).get(f"/api/v1/batches/{batch.pk}").json()

    assert body["name"] == "spring"
    assert body["progress"] == {
        "counts": {
            "queued": 1,
            "processing": 0,
            "flagged": 2,
            "rendering": 0,
            "published": 0,
            "rejected": 0,
            "superseded": 0,
            "failed": 1,
        },
        "total": 4,
        "settled": 3,
        "percent": 75,
        "done": False,
    }
    assert body["errors"] == [{"file": "notes.txt", "reason": "This is not a photo Lightbox can read."}]
    assert body["failures"] == [{"file": failed.source.original_filename, "error": "The JPEG is truncated."}]
    assert (body["file_count"], body["rejected_count"]) == (1, 1)


def test_an_unknown_batch_is_a_404(api_as, reviewer):
    assert_error(
        api_as(reviewer).get("/api/v1/batches/00000000-0000-0000-0000-000000000000"), 404, "not_found"
    )
