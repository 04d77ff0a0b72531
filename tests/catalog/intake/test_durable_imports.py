"""Imports keep their state in PostgreSQL: a lost or stopped import goes on from its cursor,
and one that keeps stopping ends with its reason; a batch nobody closes is closed."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from datetime import timedelta

import django_rq
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog.intake import service
from catalog.intake.models import IntakeJob, IntakeStatus
from catalog.intake.service import import_archive, receive_archive
from catalog.intake.url_import import import_url_job, start_url_import
from catalog.models import SourceImage, UploadBatch
from catalog.uploads import create_batch
from catalog.webhooks.models import Event
from processing.sweeper import sweep
from tests.catalog.http_server import LocalServer, send
from tests.conftest import _numbered_photo, photo_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def zip_of(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(count):
            archive.writestr(f"ZIP-{n}.jpg", _numbered_photo(n + 1))
    return buffer.getvalue()


def queued(func_name: str) -> list:
    return [
        job
        for name in ("high", "default", "low")
        for job in django_rq.get_queue(name).jobs
        if job.func_name == func_name
    ]


def run_queued_imports() -> list[str]:
    """Run every queued archive import job until none is left (in this process: the photos'
    own processing jobs stay queued)."""
    outcomes = []
    while jobs := queued("catalog.intake.service.import_archive"):
        for job in jobs:
            job.delete()
            outcomes.append(import_archive(*job.args))
    return outcomes


def test_a_zip_import_lost_with_redis_between_slices_goes_on_from_its_cursor(
    merchandiser, redis_conn, monkeypatch
):
    monkeypatch.setattr(service, "ARCHIVE_SLICE", 2)
    batch = create_batch(merchandiser)
    intake = receive_archive(batch, ContentFile(zip_of(5), name="five.zip"))
    (job,) = queued("catalog.intake.service.import_archive")

    assert import_archive(*job.args) == "continued"
    intake.refresh_from_db()
    assert (intake.status, intake.cursor) == (IntakeStatus.QUEUED, 2)
    redis_conn.flushdb()  # the next slice's job is gone

    assert sweep(grace_seconds=0).imports_resumed == 1
    assert run_queued_imports() == ["continued", "imported"]

    intake.refresh_from_db()
    assert (intake.status, intake.cursor, intake.attempts) == (IntakeStatus.DONE, 5, 0)
    names = Counter(SourceImage.objects.filter(batch=batch).values_list("original_filename", flat=True))
    assert names == {f"ZIP-{n}.jpg": 1 for n in range(5)}
    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count, batch.errors) == (5, 0, [])
    assert batch.closed_at is not None
    assert sweep(grace_seconds=0).imports_resumed == 0


def _as_a_killed_worker_left_it(intake: IntakeJob, settings) -> None:
    intake.claim()
    IntakeJob.objects.filter(pk=intake.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS + 5)
    )


def test_an_import_whose_worker_died_is_resumed_then_given_up_with_its_reason(
    merchandiser, redis_conn, settings
):
    settings.LIGHTBOX_MAX_ATTEMPTS = 2
    batch = create_batch(merchandiser)
    intake = receive_archive(batch, ContentFile(zip_of(3), name="three.zip"))
    _as_a_killed_worker_left_it(intake, settings)

    assert sweep().imports_resumed == 1
    intake.refresh_from_db()
    assert (intake.status, intake.attempts) == (IntakeStatus.QUEUED, 1)
    assert "stopped without finishing" in intake.last_error
    assert queued("catalog.intake.service.import_archive")[-1].id == intake.rq_job_id

    _as_a_killed_worker_left_it(intake, settings)
    assert sweep().imports_resumed == 1

    intake.refresh_from_db()
    batch.refresh_from_db()
    assert intake.status == IntakeStatus.FAILED
    assert "stopped 2 times" in intake.last_error
    assert batch.errors == [{"file": f"{batch.pk}.zip", "reason": intake.last_error}]
    assert batch.closed_at is not None
    assert batch.finished_at is not None
    assert sweep().imports_resumed == 0


def test_a_slow_run_that_lost_its_import_stops_at_its_next_step(merchandiser, redis_conn, settings):
    batch = create_batch(merchandiser)
    intake = receive_archive(batch, ContentFile(zip_of(2), name="two.zip"))
    slow_token = intake.claim()
    IntakeJob.objects.filter(pk=intake.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS + 5)
    )
    sweep()  # taken back and queued again

    assert intake.step(slow_token, cursor=1) is False
    outcomes = run_queued_imports()  # the first job, and the one the sweeper queued
    assert sorted(outcomes) == ["imported", "nothing to do (done)"]
    assert SourceImage.objects.filter(batch=batch).count() == 2


@pytest.fixture
def photo_server(settings):
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with LocalServer() as running:
        running.routes["/p.png"] = lambda h: send(h, 200, photo_bytes(fmt="PNG"), "image/png")
        yield running


def test_a_url_import_lost_with_redis_is_fetched_once_by_the_resumed_job(
    merchandiser, redis_conn, photo_server
):
    batch = create_batch(merchandiser)
    start_url_import(batch, photo_server.url("/p.png"), sku="URL-1", user=merchandiser)
    redis_conn.flushdb()

    assert sweep(grace_seconds=0).imports_resumed == 1
    (job,) = queued("catalog.intake.url_import.import_url_job")
    assert import_url_job(*job.args) == "imported"
    assert import_url_job(*job.args) == "nothing to do (done)"

    assert SourceImage.objects.filter(batch=batch).count() == 1
    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count, batch.closed_at is not None) == (1, 0, True)


def test_a_browser_batch_whose_uploads_stopped_is_closed_after_the_timeout_and_completes_once(
    merchandiser, make_version, product, admin_user, settings, redis_conn
):
    from catalog.webhooks import services

    services.register_endpoint(
        url="http://127.0.0.1:9/hooks", event_types=["batch.completed"], user=admin_user
    )
    batch = create_batch(merchandiser, source=UploadBatch.Source.BROWSER)
    version = make_version(product, status="flagged", score=30)
    SourceImage.objects.filter(pk=version.source_id).update(batch=batch)
    batch.record_accepted()
    assert sweep().batches_closed_idle == 0  # files arrived a moment ago

    UploadBatch.objects.filter(pk=batch.pk).update(
        last_file_at=timezone.now() - timedelta(seconds=settings.LIGHTBOX_BATCH_IDLE_SECONDS + 1)
    )
    report = sweep()

    assert report.batches_closed_idle == 1
    batch.refresh_from_db()
    assert batch.closed_at is not None
    assert batch.finished_at is not None
    assert "No file arrived" in batch.close_reason
    assert Event.objects.filter(type="batch.completed").count() == 1
    assert sweep().batches_closed_idle == 0
    assert Event.objects.filter(type="batch.completed").count() == 1


def test_a_batch_still_importing_a_zip_is_not_closed_for_idleness(merchandiser, settings, redis_conn):
    batch = create_batch(merchandiser, source=UploadBatch.Source.BROWSER)
    receive_archive(batch, ContentFile(zip_of(1), name="one.zip"))
    UploadBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.LIGHTBOX_BATCH_IDLE_SECONDS + 1)
    )

    assert sweep().batches_closed_idle == 0
    batch.refresh_from_db()
    assert batch.closed_at is None
