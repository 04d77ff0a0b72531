"""A "Push to Shopify" export run end to end: queued on commit, run by a real RQ burst worker,
pushed to the fake Admin API (which throttles once each way), outcome on the Export row."""

from __future__ import annotations

import pytest

from catalog.exports.models import Export, ExportKind, ExportStatus
from catalog.exports.services import start_export
from catalog.shopify.models import MediaStatus, ShopifyMedia
from tests.catalog.shopify.conftest import rerender

pytestmark = pytest.mark.django_db(transaction=True)


def run_burst_worker() -> None:
    import django_rq

    from processing.worker import LightboxWorker

    queue = django_rq.get_queue("interactive")  # exports: someone is waiting for them
    LightboxWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


def test_a_push_export_puts_the_images_on_shopify_and_records_the_outcome(
    shopify, connected, mug, merchandiser, redis_conn, caplog
):
    shopify.add_product("mug-001", "Stoneware mug")
    shopify.fail_processing["MUG-001-3.webp"] = (
        "IMAGE_PROCESSING_FAILURE",
        "The image could not be processed.",
    )

    export = start_export(ExportKind.SHOPIFY_PUSH, {"product": mug.pk}, "", merchandiser)
    run_burst_worker()

    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error
    assert (export.progress_done, export.progress_total) == (3, 3)
    assert export.summary["images"] == 2
    assert export.summary["failed"] == 1
    assert [(s["sku"], s["image"].split(" (")[0]) for s in export.skipped] == [("MUG-001", "photo 3")]
    assert "IMAGE_PROCESSING_FAILURE" in export.skipped[0]["reason"]
    assert [m.status for m in shopify.media_of("mug-001")] == ["READY", "READY"]
    assert ShopifyMedia.objects.filter(status=MediaStatus.READY).count() == 2
    assert [r.throttled for r in shopify.requests if r.throttled] == ["HTTP 429", "THROTTLED"]
    assert shopify.violations == []
    assert shopify.token not in caplog.text


def test_a_second_push_export_replaces_the_media(shopify, connected, mug, merchandiser, redis_conn):
    shopify.add_product("mug-001")
    for _ in range(2):
        start_export(ExportKind.SHOPIFY_PUSH, {"product": mug.pk}, "", merchandiser)
        run_burst_worker()
        rerender(mug)

    assert list(Export.objects.values_list("status", flat=True)) == [ExportStatus.SUCCEEDED] * 2
    assert len(shopify.media_of("mug-001")) == 3
    assert len(shopify.deleted) == 3
    assert Export.objects.order_by("created_at").last().summary["replaced"] == 3


def test_a_refused_token_fails_the_export_with_the_reason(shopify, connected, mug, merchandiser, redis_conn):
    shopify.add_product("mug-001")
    shopify.token = "shpat_rotated000000000000000000000000"

    export = start_export(ExportKind.SHOPIFY_PUSH, {"product": mug.pk}, "", merchandiser)
    run_burst_worker()

    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "HTTP 401" in export.error
    assert connected.access_token() not in export.error


def test_a_push_whose_product_job_redis_lost_is_resumed_by_the_sweeper_and_finishes_once(
    shopify, connected, mug, merchandiser, redis_conn, make_version
):
    import django_rq

    from catalog.shopify.models import PushItemStatus, ShopifyPushItem
    from processing.sweeper import sweep
    from processing.worker import LightboxWorker

    shopify.add_product("mug-001")
    make_version(mug, status="flagged", score=20)  # left out by the selection, with its reason
    export = start_export(ExportKind.SHOPIFY_PUSH, {"product": mug.pk}, "", merchandiser)
    queue = django_rq.get_queue("interactive")
    LightboxWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1, with_scheduler=False)
    assert ShopifyPushItem.objects.filter(export=export, status=PushItemStatus.PENDING).count() == 3
    redis_conn.flushdb()  # the product's job is gone

    assert sweep(grace_seconds=0).pushes_resumed == 1
    run_burst_worker()

    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error
    assert export.summary["images"] == 3
    assert [s["reason"] for s in export.skipped] == ["not published yet (flagged for review)"]
    assert (export.progress_done, export.progress_total) == (3, 3)
    assert set(ShopifyPushItem.objects.filter(export=export).values_list("status", flat=True)) == {
        PushItemStatus.DONE
    }
    assert len(shopify.media_of("mug-001")) == 3
    assert shopify.duplicates == []
    assert sweep(grace_seconds=0).pushes_resumed == 0


def test_images_a_dead_run_held_are_taken_back_then_failed_after_the_attempt_limit(
    shopify, connected, mug, merchandiser, redis_conn, settings
):
    import uuid
    from datetime import timedelta

    import django_rq
    from django.utils import timezone

    from catalog.exports.jobs import run_export
    from catalog.shopify.models import PushItemStatus, ShopifyPushItem
    from processing.sweeper import sweep

    settings.LIGHTBOX_MAX_ATTEMPTS = 2
    shopify.add_product("mug-001")
    export = start_export(ExportKind.SHOPIFY_PUSH, {"product": mug.pk}, "", merchandiser)
    run_export(str(export.pk))  # the items recorded, the product's job queued
    items = ShopifyPushItem.objects.filter(export=export)

    def killed_holding_them() -> None:
        """What a SIGKILLed product job leaves: its claim on the items, no step since."""
        stale = timezone.now() - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS + 5)
        items.update(claim_token=uuid.uuid4(), heartbeat_at=stale)

    killed_holding_them()
    assert sweep().pushes_resumed == 1  # the product queued again, its images taken back
    assert set(items.values_list("attempts", "claim_token")) == {(1, None)}
    assert f"push-{export.pk}-{mug.pk}" in django_rq.get_queue("interactive").job_ids

    killed_holding_them()
    sweep()

    assert set(items.values_list("status", flat=True)) == {PushItemStatus.FAILED}
    assert "stopped 2 times" in items.first().reason
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED  # finished, with every image's reason
    assert export.summary["failed"] == 3
    assert len(export.skipped) == 3
    assert shopify.uploads() == []
