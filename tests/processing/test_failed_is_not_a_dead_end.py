"""FAILED is not a dead end, and nothing is retried forever: retries by hand (one, a
selection, a batch), the same bytes uploaded again, outages waited out with a long backoff,
and a cap on the times a photo may kill its worker or fail to render. Real PostgreSQL,
Redis and RQ workers; the dead worker is a real process killed with SIGKILL."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import django_rq
import psycopg
import pytest
import redis
from django.db import connection
from django.db.utils import OperationalError
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rq.registry import ScheduledJobRegistry

from catalog.demo import photo_dir
from catalog.models import ImageVersion, InvalidTransition, Product, UploadBatch, VersionStatus
from catalog.retries import retry_version
from catalog.uploads import UploadRefused, add_photo, create_batch
from lightbox.outages import next_try, outage_of
from processing.jobs import process_version
from processing.publishing import render_version
from processing.sweeper import sweep
from tests.faults import free_port

pytestmark = pytest.mark.django_db(transaction=True)

SETTLED = {VersionStatus.FLAGGED, VersionStatus.RENDERING, VersionStatus.PUBLISHED}


def coffee_bytes() -> bytes:
    return (photo_dir() / "coffee.png").read_bytes()


def run_burst_worker() -> None:
    from django.conf import settings

    from processing.worker import LightboxWorker

    queues = [django_rq.get_queue(name) for name in settings.QUEUE_NAMES]
    LightboxWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=False)


@pytest.fixture
def cup(db):
    return Product.objects.create(sku="ESP-CUP", title="Espresso cup", category="Kitchen")


def failed(
    make_version, product, *, batch=None, photo: bytes | None = None, error="disk full"
) -> ImageVersion:
    version = make_version(
        product, status=VersionStatus.FAILED, error=error, failed_at=timezone.now(), photo=photo
    )
    ImageVersion.objects.filter(pk=version.pk).update(attempts=4)
    if batch is not None:
        version.source.batch = batch
        version.source.save(update_fields=["batch"])
    version.refresh_from_db()
    return version


# --- retries by hand -----------------------------------------------------------------------


def test_a_failed_version_is_retried_from_its_product_page_and_processed_again(
    client, merchandiser, cup, make_version, model_dir, redis_conn
):
    version = failed(make_version, cup, photo=coffee_bytes())
    client.force_login(merchandiser)
    page = client.get(reverse("catalog:product_detail", args=[cup.sku])).content.decode()
    assert 'data-testid="retry-version"' in page

    response = client.post(reverse("catalog:version_retry", args=[version.pk]), follow=True)

    assert "queued again" in response.content.decode()
    version.refresh_from_db()
    assert (version.status, version.attempts, version.error, version.failed_at) == ("queued", 0, "", None)
    assert django_rq.get_queue("default").job_ids == [version.job_id]

    run_burst_worker()

    version.refresh_from_db()
    assert version.status in SETTLED, version.error
    assert version.attempts == 1


def test_failed_versions_of_a_batch_are_retried_by_selection_or_all_at_once(
    client, merchandiser, cup, make_version, redis_conn
):
    batch = UploadBatch.objects.create(created_by=merchandiser, closed_at=timezone.now())
    first, second, third = (failed(make_version, cup, batch=batch) for _ in range(3))
    UploadBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now())
    client.force_login(merchandiser)
    page = client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    assert 'data-testid="retry-all"' in page
    assert page.count('name="version"') == 3

    response = client.post(
        reverse("catalog:batch_retry", args=[batch.pk]), {"version": [str(second.pk)]}, follow=True
    )

    assert "1 failed photo(s) queued again" in response.content.decode()
    statuses = dict(ImageVersion.objects.filter(source__batch=batch).values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk], statuses[third.pk]) == ("failed", "queued", "failed")
    batch.refresh_from_db()
    assert batch.finished_at is None  # open again until the retried photo settles

    response = client.post(reverse("catalog:batch_retry", args=[batch.pk]), {"all": "1"}, follow=True)

    assert "2 failed photo(s) queued again" in response.content.decode()
    assert not ImageVersion.objects.filter(source__batch=batch, status=VersionStatus.FAILED).exists()
    assert sorted(django_rq.get_queue("default").job_ids) == sorted(v.job_id for v in (first, second, third))


def test_a_retry_is_refused_with_its_reason_for_a_version_that_is_not_failed_or_was_reprocessed(
    cup, make_version, redis_conn
):
    flagged = make_version(cup, status=VersionStatus.FLAGGED, score=40)
    with pytest.raises(InvalidTransition, match="cannot retry a version that is flagged"):
        retry_version(flagged)

    old = failed(make_version, cup)
    ImageVersion.objects.create(source=old.source, number=2, status=VersionStatus.QUEUED)
    with pytest.raises(InvalidTransition, match="has a newer version"):
        retry_version(old)
    assert ImageVersion.objects.get(pk=old.pk).status == VersionStatus.FAILED


def test_the_same_bytes_uploaded_again_retry_a_failed_photo_instead_of_being_refused(
    cup, make_version, merchandiser, redis_conn
):
    data = coffee_bytes()
    version = failed(make_version, cup, photo=data)
    batch = create_batch(merchandiser)

    again = add_photo(batch, cup, "coffee-again.png", data)

    assert again.pk == version.pk
    again.refresh_from_db()
    assert again.status == VersionStatus.QUEUED
    assert again.source.batch_id == batch.pk  # followed on the upload now being watched
    assert django_rq.get_queue("default").job_ids == [version.job_id]
    # Only one copy of the photo stays in storage.
    stored = sorted(p.name for p in Path(again.source.file.path).parent.iterdir())
    assert stored == [Path(again.source.file.name).name]

    with pytest.raises(UploadRefused, match="already attached"):
        add_photo(batch, cup, "coffee-third.png", data)  # it is queued now: a real duplicate


def test_re_rendering_tells_the_admin_about_failed_versions_it_does_not_cover(
    client, admin_user, cup, make_version, redis_conn, django_capture_on_commit_callbacks
):
    from catalog.models import MarketplaceProfile
    from tests.processing.test_rerender import admin_form_data

    failed(make_version, cup)
    ebay = MarketplaceProfile.objects.get(slug="ebay")
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:catalog_marketplaceprofile_change", args=[ebay.pk]),
            admin_form_data(ebay, quality=75),
            follow=True,
        )

    assert "1 failed image(s) are not re-rendered" in response.content.decode()


# --- outages --------------------------------------------------------------------------------


def test_database_redis_and_disk_failures_are_outages_and_a_photo_error_is_not():
    with pytest.raises(psycopg.OperationalError) as database:
        psycopg.connect(host="127.0.0.1", port=free_port(), user="postgres", connect_timeout=2)
    with pytest.raises(redis.exceptions.ConnectionError) as queue:
        redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=2).ping()
    with pytest.raises(OSError, match="No space left") as disk, open("/dev/full", "wb", buffering=0) as full:
        full.write(b"x")
    wrapped = OperationalError("connection failed")
    wrapped.__cause__ = database.value

    assert outage_of(wrapped) == "the database is unavailable"
    assert outage_of(queue.value) == "Redis is unavailable"
    assert disk.value.errno == errno.ENOSPC
    assert outage_of(disk.value) == "the disk is full"
    assert outage_of(FileNotFoundError(errno.ENOENT, "gone")) is None
    with pytest.raises(Exception) as photo:  # noqa: PT011 - whatever Pillow raises for it
        Image.open(io.BytesIO(b"not a photo"))
    assert outage_of(photo.value) is None


def test_the_wait_after_an_outage_grows_and_is_capped(settings):
    settings.LIGHTBOX_OUTAGE_RETRY_SECONDS = 120
    settings.LIGHTBOX_OUTAGE_RETRY_MAX_SECONDS = 3600
    now = timezone.now()

    waits = [(next_try(n, now=now) - now).total_seconds() for n in range(7)]

    assert waits == [120, 240, 480, 960, 1920, 3600, 3600]


@pytest.fixture
def small_disk(tmp_path, settings):
    """MEDIA_ROOT on a 2 MB tmpfs of the test's own, which the test can fill up."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {mounted.stderr.decode().strip()}")
    settings.MEDIA_ROOT = mount_point
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"

    def write_until_full() -> None:
        with open(filler, "wb", buffering=0) as fh:
            while True:
                fh.write(b"\0" * 65536)

    with pytest.raises(OSError, match="No space left"):
        write_until_full()
    return filler


def test_a_full_disk_is_waited_out_with_a_long_backoff_and_the_photo_keeps_its_attempts(
    small_disk, cup, model_dir, redis_conn, settings
):
    settings.LIGHTBOX_MAX_ATTEMPTS = 1  # a single ordinary failure would fail it for good
    version = add_photo(create_batch(None), cup, "coffee.png", coffee_bytes())
    redis_conn.flushdb()  # only the job scheduled below will be in Redis
    filler = fill(small_disk)

    assert process_version(str(version.pk)) == "waiting for an outage"

    version.refresh_from_db()
    assert (version.status, version.attempts, version.outage_retries) == ("queued", 0, 1)
    assert "the disk is full" in version.error
    wait = (version.retry_at - timezone.now()).total_seconds()
    assert settings.LIGHTBOX_OUTAGE_RETRY_SECONDS - 10 < wait <= settings.LIGHTBOX_OUTAGE_RETRY_SECONDS
    assert ScheduledJobRegistry(queue=django_rq.get_queue("default")).get_job_ids() == [version.job_id]

    # The sweeper leaves it to its scheduled retry, even once Redis has lost that.
    ImageVersion.objects.filter(pk=version.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    assert sweep().requeued_lost == 0
    redis_conn.flushdb()
    assert sweep().requeued_lost == 0

    # When the retry is due and Redis has lost it, the sweeper queues it; the disk has room again.
    ImageVersion.objects.filter(pk=version.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert sweep().requeued_lost == 1
    filler.unlink()
    run_burst_worker()

    version.refresh_from_db()
    assert version.status in SETTLED, version.error
    assert version.attempts == 1


def test_a_worker_that_meets_a_full_disk_schedules_the_retry_and_a_later_worker_runs_it(
    small_disk, cup, model_dir, redis_conn, settings
):
    settings.LIGHTBOX_OUTAGE_RETRY_SECONDS = 1
    version = add_photo(create_batch(None), cup, "coffee.png", coffee_bytes())
    filler = fill(small_disk)

    run_burst_worker()  # the job meets the full disk and schedules its own retry

    version.refresh_from_db()
    assert (version.status, version.attempts, version.outage_retries) == ("queued", 0, 1)
    filler.unlink()
    time.sleep(1.5)
    from processing.worker import LightboxWorker

    queues = [django_rq.get_queue(name) for name in settings.QUEUE_NAMES]
    # A worker with the scheduler moves the due retry to its queue, then runs it.
    LightboxWorker(queues, connection=redis_conn).work(burst=True, with_scheduler=True)
    run_burst_worker()

    version.refresh_from_db()
    assert version.status in SETTLED, version.error
    assert version.attempts == 1


def test_an_outage_that_lasts_past_the_limit_fails_the_version_with_the_outage_named(
    small_disk, cup, model_dir, redis_conn, settings
):
    settings.LIGHTBOX_OUTAGE_MAX_RETRIES = 2
    version = add_photo(create_batch(None), cup, "coffee.png", coffee_bytes())
    fill(small_disk)

    assert process_version(str(version.pk)) == "waiting for an outage"
    assert process_version(str(version.pk)) == "waiting for an outage"
    assert process_version(str(version.pk)) == "failed"

    version.refresh_from_db()
    assert version.status == VersionStatus.FAILED
    assert version.error.startswith("gave up after 2 outages; the disk is full")


# --- bounded attempts -----------------------------------------------------------------------


def big_coffee() -> bytes:
    """The coffee photo at 2400 × 1600, so processing lasts long enough to be killed."""
    with Image.open(photo_dir() / "coffee.png") as image:
        buffer = io.BytesIO()
        image.convert("RGB").resize((2400, 1600)).save(buffer, format="PNG")
    return buffer.getvalue()


def kill_worker_mid_job(version: ImageVersion, env: dict[str, str], attempt: int) -> None:
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "--burst", "default"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = ImageVersion.objects.filter(pk=version.pk).values("status", "attempts").get()
            if row["status"] == VersionStatus.PROCESSING and row["attempts"] == attempt:
                break
            assert worker.poll() is None, f"the worker ended before it was killed: {row}"
            time.sleep(0.02)
        else:
            raise AssertionError("the worker never started the job")
        os.kill(worker.pid, signal.SIGKILL)  # as the kernel's OOM killer would
    finally:
        worker.wait(timeout=30)


def test_a_photo_that_kills_its_worker_is_failed_after_lightbox_max_attempts_deaths(
    cup, model_dir, redis_conn, settings
):
    settings.LIGHTBOX_MAX_ATTEMPTS = 2
    version = add_photo(create_batch(None), cup, "huge.png", big_coffee())
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    stale = timezone.now() - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS + 5)

    kill_worker_mid_job(version, env, attempt=1)
    ImageVersion.objects.filter(pk=version.pk).update(started_at=stale)
    report = sweep()

    version.refresh_from_db()
    assert (report.rescued_stale, version.status, version.worker_deaths) == (1, "queued", 1)
    assert "worker stopped before finishing (attempt 1)" in version.error

    kill_worker_mid_job(version, env, attempt=2)
    ImageVersion.objects.filter(pk=version.pk).update(started_at=stale)
    report = sweep()

    version.refresh_from_db()
    assert (report.rescued_stale, report.gave_up, version.status) == (0, 1, "failed")
    assert version.error.startswith("worker died 2 times processing this photo (attempt 2 of 2)")
    assert sweep().rescued_stale == 0  # and it stays failed


def test_rendering_that_keeps_failing_ends_failed_after_lightbox_max_attempts_runs(
    rendering_version, small_profiles, redis_conn, settings
):
    settings.LIGHTBOX_MAX_ATTEMPTS = 2
    rendering_version.master.storage.delete(rendering_version.master.name)  # storage lost it

    with pytest.raises(FileNotFoundError):
        render_version(str(rendering_version.pk))
    rendering_version.refresh_from_db()
    assert (rendering_version.status, rendering_version.render_attempts) == ("rendering", 1)
    assert rendering_version.error.startswith("rendering attempt 1 failed, will retry: FileNotFoundError")

    assert render_version(str(rendering_version.pk)) == "failed"
    rendering_version.refresh_from_db()
    assert rendering_version.status == VersionStatus.FAILED
    assert rendering_version.error.startswith("rendering failed 2 times; last error: FileNotFoundError")


def test_the_sweeper_resumes_a_lost_render_until_its_runs_are_used_up(
    rendering_version, redis_conn, settings
):
    settings.LIGHTBOX_MAX_ATTEMPTS = 2
    long_ago = timezone.now() - timedelta(hours=1)
    ImageVersion.objects.filter(pk=rendering_version.pk).update(
        scored_at=long_ago, render_attempts=1, render_started_at=long_ago
    )

    assert sweep().rendering_resumed == 1
    assert django_rq.get_queue("default").job_ids == [f"render-{rendering_version.pk}"]

    redis_conn.flushdb()  # its worker died on the second run, and Redis lost the job
    ImageVersion.objects.filter(pk=rendering_version.pk).update(render_attempts=2)
    report = sweep()

    rendering_version.refresh_from_db()
    assert (report.rendering_resumed, report.gave_up, rendering_version.status) == (0, 1, "failed")
    assert rendering_version.error.startswith("rendering did not finish in 2 runs")
