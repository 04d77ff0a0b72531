"""Export jobs on a real Redis, run by a real RQ burst worker: queued on commit, claimed once,
progress to the total, every outcome on the row."""

from __future__ import annotations

import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from catalog.exports import jobs
from catalog.exports.jobs import run_export
from catalog.exports.models import Export
from catalog.exports.services import ExportError, start_export
from catalog.models import Product, SourceRole, VersionStatus
from lightbox.jobs import export_job_id
from processing.sweeper import sweep

pytestmark = pytest.mark.django_db(transaction=True)


def run_burst_worker() -> None:
    import django_rq
    from django.conf import settings

    from processing.worker import LightboxWorker

    queues = [django_rq.get_queue(name) for name in settings.QUEUE_NAMES]
    LightboxWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=False)


@pytest.fixture
def shelf(make_photo):
    """Five products with a main photo and an alternate each."""
    items = []
    for n in range(5):
        item = Product.objects.create(sku=f"SHELF{n}", title=f"Shelf {n}", asin=f"B0SHELF00{n}")
        make_photo(item, 1)
        make_photo(item, 2, role=SourceRole.ALTERNATE, profiles=("amazon-additional", "shopify"))
        items.append(item)
    return items


def job_in_redis(export: Export):
    import django_rq
    from rq.job import Job
    from rq.serializers import JSONSerializer

    return Job.fetch(
        export_job_id(export.pk), connection=django_rq.get_connection("default"), serializer=JSONSerializer
    )


def test_an_export_is_queued_on_commit_and_a_burst_worker_runs_it_with_the_bar_moving(
    shelf, merchandiser, redis_conn, monkeypatch
):
    monkeypatch.setattr(jobs, "CHUNK", 2)
    seen: list[tuple[int, int]] = []
    advance = Export.advance

    def advance_and_record(self, steps=1):
        advance(self, steps)
        row = Export.objects.get(pk=self.pk)
        seen.append((row.progress_done, row.progress_total))

    monkeypatch.setattr(Export, "advance", advance_and_record)

    export = start_export(Export.Kind.AMAZON_ZIP, {"products": [p.pk for p in shelf]}, "", merchandiser)

    job = job_in_redis(export)
    assert job.origin == "interactive"  # someone watches the bar: never behind bulk work
    assert job.args == [str(export.pk)]
    run_burst_worker()

    export.refresh_from_db()
    assert export.status == Export.Status.SUCCEEDED, export.error
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert export.progress_done == export.progress_total == 5
    assert export.scope_label == "5 selected products"
    assert export.created_by == merchandiser
    assert export.summary["products"] == 5
    assert export.summary["images"] == 10
    with export.file.open("rb") as fh:
        names = zipfile.ZipFile(fh).namelist()
    assert "B0SHELF004.PT01.jpg" in names


def test_running_the_job_again_changes_nothing(shelf, merchandiser, redis_conn):
    export = start_export(Export.Kind.SHOPIFY_CSV, {"product": shelf[0].pk}, "Shelf 0", merchandiser)
    run_burst_worker()
    export.refresh_from_db()
    before = (export.status, export.file.name, export.finished_at, export.summary)

    assert run_export(str(export.pk)) == "nothing to do (succeeded)"

    export.refresh_from_db()
    assert (export.status, export.file.name, export.finished_at, export.summary) == before


def test_a_run_that_finds_the_export_already_claimed_leaves_it_alone(shelf, merchandiser):
    export = Export.objects.create(
        kind=Export.Kind.SHOPIFY_CSV, scope={"product": shelf[0].pk}, scope_label="x"
    )
    assert export.start(1)

    assert run_export(str(export.pk)) == "nothing to do (running)"
    export.refresh_from_db()
    assert export.status == Export.Status.RUNNING
    assert not export.file


def test_an_export_whose_products_are_gone_fails_with_a_reason_and_no_file(merchandiser, redis_conn):
    item = Product.objects.create(sku="GONE1", title="Gone")
    export = start_export(Export.Kind.SHOPIFY_CSV, {"product": item.pk}, "", merchandiser)
    item.delete()

    run_burst_worker()

    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert export.error.startswith("No products match this export any more")
    assert not export.file


def test_an_export_where_every_image_is_left_out_fails_and_lists_why(make_photo, merchandiser, redis_conn):
    item = Product.objects.create(sku="WAIT1", title="Waiting")
    make_photo(item, 1, status=VersionStatus.FLAGGED, profiles=())
    export = start_export(Export.Kind.AMAZON_ZIP, {"product": item.pk}, "", merchandiser)

    run_burst_worker()

    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert export.error == (
        "Nothing could be exported: all 1 product(s) were left out. The list below says why for each one."
    )
    assert [s["reason"] for s in export.skipped] == ["not published yet (flagged for review)"]
    assert not export.file


def test_an_unexpected_error_fails_the_export_with_the_message(shelf, merchandiser, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(jobs, "select", broken)
    export = Export.objects.create(
        kind=Export.Kind.AMAZON_ZIP, scope={"product": shelf[0].pk}, scope_label="x"
    )

    assert run_export(str(export.pk)) == "failed"

    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert export.error == "The export stopped with an error: No space left on device"


# --- starting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "scope", "message"),
    [
        ("ebay_zip", {"filters": {}}, "Unknown export kind 'ebay_zip'"),
        (Export.Kind.SHOPIFY_CSV, {"batch": "x"}, "not a valid batch id"),
        (Export.Kind.SHOPIFY_CSV, {"filters": {"q": "no such thing"}}, "No products match this selection"),
        (Export.Kind.SHOPIFY_PUSH, {"filters": {}}, "No Shopify store is connected"),
    ],
)
def test_start_export_refuses_in_words_and_records_nothing(
    shelf, merchandiser, redis_conn, kind, scope, message
):
    with pytest.raises(ExportError, match=message):
        start_export(kind, scope, "", merchandiser)

    assert not Export.objects.exists()
    assert redis_conn.keys("rq:job:export-*") == []


def test_someone_without_the_export_permission_cannot_start_one(shelf, reviewer):
    with pytest.raises(PermissionDenied):
        start_export(Export.Kind.SHOPIFY_CSV, {"filters": {}}, "", reviewer)
    assert not Export.objects.exists()


# --- the sweeper -------------------------------------------------------------------------


def test_the_sweeper_requeues_an_export_whose_job_redis_lost(shelf, merchandiser, redis_conn):
    export = start_export(Export.Kind.SHOPIFY_CSV, {"product": shelf[0].pk}, "", merchandiser)
    redis_conn.flushdb()  # Redis lost the job
    Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    report = sweep()

    assert report.exports_rescued == 1
    assert job_in_redis(export).get_status() == "queued"
    assert sweep().exports_rescued == 0  # the job is alive now
    run_burst_worker()
    export.refresh_from_db()
    assert export.status == Export.Status.SUCCEEDED


def _stop_running(export, settings) -> None:
    """What a SIGKILLed worker leaves: RUNNING, and no step since long before the stale timeout."""
    Export.objects.filter(pk=export.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS + 60)
    )


def test_the_sweeper_runs_again_an_export_a_dead_worker_left_running(shelf, settings, redis_conn):
    export = Export.objects.create(
        kind=Export.Kind.AMAZON_ZIP, scope={"product": shelf[0].pk}, scope_label="x"
    )
    export.start(1)
    _stop_running(export, settings)

    assert sweep().exports_rescued == 1

    export.refresh_from_db()
    assert (export.status, export.attempts) == (Export.Status.QUEUED, 1)
    assert "worker stopped" in export.error
    run_burst_worker()
    export.refresh_from_db()
    assert export.status == Export.Status.SUCCEEDED
    assert export.error == ""
    assert export.file.name


def test_an_export_that_keeps_stopping_fails_with_the_reason_after_the_attempt_limit(
    shelf, settings, redis_conn
):
    settings.LIGHTBOX_MAX_ATTEMPTS = 2
    export = Export.objects.create(
        kind=Export.Kind.AMAZON_ZIP, scope={"product": shelf[0].pk}, scope_label="x"
    )
    export.start(1)
    _stop_running(export, settings)
    assert sweep().exports_rescued == 1  # first stop: run again
    export.refresh_from_db()
    export.start(1)  # a worker took it, and was killed again
    _stop_running(export, settings)

    assert sweep().exports_rescued == 1

    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert "stopped 2 times" in export.error
    assert sweep().exports_rescued == 0
