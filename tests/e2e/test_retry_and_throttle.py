"""In a real browser: failed photos retried from the batch page and processed by a real
worker, and an upload over the per-user rate waits and goes up by itself."""

from __future__ import annotations

import shutil

import pytest
from django.utils import timezone

from catalog.demo import photo_dir
from catalog.models import ImageVersion, Product, UploadBatch, VersionStatus
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_failed_photos_are_retried_from_the_batch_page_and_settle(
    log_in, live_server, merchandiser, make_version, burst_worker
):
    cup = Product.objects.create(sku="RETRY-CUP", title="Cup")
    batch = UploadBatch.objects.create(
        created_by=merchandiser, closed_at=timezone.now(), finished_at=timezone.now()
    )
    version = make_version(
        cup,
        status=VersionStatus.FAILED,
        error="gave up after 30 outages; the disk is full",
        photo=(photo_dir() / "coffee.png").read_bytes(),
    )
    version.source.batch = batch
    version.source.save(update_fields=["batch"])
    page = log_in(merchandiser.username, PASSWORD)

    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    assert "the disk is full" in page.get_by_test_id("batch-failures").inner_text()
    page.get_by_test_id("retry-all").click()

    page.get_by_text("1 failed photo(s) queued again.").wait_for()
    burst_worker()
    page.reload()
    page.wait_for_selector("[data-testid=batch-progress][data-done=true]", timeout=60_000)
    version.refresh_from_db()
    assert version.status in (VersionStatus.FLAGGED, VersionStatus.PUBLISHED), version.error
    assert page.get_by_test_id("batch-failures").count() == 0


def test_an_upload_over_the_rate_limit_waits_as_told_and_goes_up_by_itself(
    log_in, merchandiser, settings, tmp_path, redis_conn
):
    settings.LIGHTBOX_UPLOAD_RATE_PER_MINUTE = 1
    for name in ("RATE-A.png", "RATE-B.png"):
        shutil.copy(photo_dir() / ("coffee.png" if name == "RATE-A.png" else "chelsea.png"), tmp_path / name)
    page = log_in(merchandiser.username, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Upload").click()
    page.locator("#dropper").wait_for(state="visible")

    page.locator("#file-input").set_input_files([str(tmp_path / "RATE-A.png"), str(tmp_path / "RATE-B.png")])

    rows = page.get_by_test_id("upload-row")
    rows.locator(".result", has_text="Too many uploads").wait_for()
    rows.locator(".result", has_text="Sending again in").wait_for()
    for sku in ("RATE-A", "RATE-B"):
        rows.locator(".result", has_text=f"queued for {sku}").wait_for(timeout=90_000)
    assert ImageVersion.objects.filter(source__product__sku__in=["RATE-A", "RATE-B"]).count() == 2
