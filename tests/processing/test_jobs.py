"""Jobs on a real Redis, run by real RQ workers in burst mode, with the real model."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from PIL import Image

from catalog.demo import photo_dir
from catalog.models import ImageVersion, Priority, Product, VersionStatus
from catalog.uploads import add_photo, create_batch
from lightbox.services import database_url
from processing.jobs import process_version
from processing.sweeper import sweep

pytestmark = pytest.mark.django_db(transaction=True)

SETTLED = {VersionStatus.FLAGGED, VersionStatus.RENDERING, VersionStatus.PUBLISHED}


def coffee_bytes() -> bytes:
    return (photo_dir() / "coffee.png").read_bytes()


@pytest.fixture
def cup(merchandiser):
    return Product.objects.create(sku="ESP-CUP", title="Espresso cup", category="Kitchen")


def upload(product, data, name="photo.png", priority=Priority.NORMAL):
    batch = create_batch(None, priority=priority)
    return add_photo(batch, product, name, data)


def run_burst_worker(*queues: str) -> None:
    import django_rq
    from django.conf import settings

    from processing.worker import LightboxWorker

    rq_queues = [django_rq.get_queue(name) for name in (queues or settings.QUEUE_NAMES)]
    worker = LightboxWorker(rq_queues, connection=rq_queues[0].connection)
    worker.work(burst=True, with_scheduler=False)


def test_an_upload_is_processed_by_a_burst_worker_that_writes_a_mask(cup, model_dir, redis_conn):
    version = upload(cup, coffee_bytes())

    run_burst_worker()

    version.refresh_from_db()
    assert version.status in SETTLED, version.error
    assert version.model_name == "u2netp"
    assert version.model_sha256 == hashlib.sha256((Path(model_dir) / "u2netp.onnx").read_bytes()).hexdigest()
    assert version.attempts == 1
    assert {"ingest", "segment", "compose", "quality"} <= set(version.timings_ms)
    assert version.compute_seconds > 0
    with version.mask.open("rb") as fh, Image.open(fh) as mask:
        assert mask.mode == "L"
        assert mask.size == (600, 400)
        lo, hi = mask.getextrema()
        assert lo == 0
        assert hi == 255
        # The cup sits in the middle of the photo; its corners are table.
        assert mask.getpixel((300, 200)) > 200
        assert mask.getpixel((5, 395)) < 50
    with version.master.open("rb") as fh, Image.open(fh) as master:
        assert master.mode == "RGBA"


def test_the_rqworker_command_runs_the_job_in_its_own_process(cup, model_dir, redis_conn, settings):
    version = upload(cup, coffee_bytes(), priority=Priority.HIGH)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "--burst", "high"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    version.refresh_from_db()
    assert version.status in SETTLED, version.error
    assert version.mask.name
    assert "process_version" in result.stderr


def test_bad_input_fails_at_once_with_a_reason_and_is_not_retried(cup, model_dir, redis_conn):
    truncated = coffee_bytes()[:3000]
    version = upload(cup, truncated)

    run_burst_worker()

    version.refresh_from_db()
    assert version.status == VersionStatus.FAILED
    assert version.attempts == 1
    assert "incomplete" in version.error.lower() or "damaged" in version.error.lower()


def test_running_the_job_again_changes_nothing(cup, model_dir, redis_conn):
    version = upload(cup, coffee_bytes())
    run_burst_worker()
    version.refresh_from_db()
    before = (version.status, version.attempts, version.mask.name, version.scored_at)

    assert process_version(str(version.pk)).startswith("nothing to do")

    version.refresh_from_db()
    assert (version.status, version.attempts, version.mask.name, version.scored_at) == before


def test_a_transient_error_is_recorded_retried_and_finally_fails_visibly(cup, settings, redis_conn):
    settings.LIGHTBOX_MAX_ATTEMPTS = 2
    version = upload(cup, coffee_bytes())
    version.source.file.storage.delete(version.source.file.name)  # storage lost the file

    with pytest.raises(FileNotFoundError):
        process_version(str(version.pk))
    version.refresh_from_db()
    assert version.status == VersionStatus.QUEUED
    assert version.error.startswith("attempt 1 failed, will retry: FileNotFoundError")

    assert process_version(str(version.pk)) == "failed"
    version.refresh_from_db()
    assert version.status == VersionStatus.FAILED
    assert "gave up after 2 attempts" in version.error


def test_the_sweeper_puts_back_work_that_redis_lost(cup, redis_conn):
    version = upload(cup, coffee_bytes())
    ImageVersion.objects.filter(pk=version.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    import django_rq

    queue = django_rq.get_queue("default")
    assert queue.count == 1
    assert sweep().requeued_lost == 0  # the job is still there: nothing to do

    redis_conn.flushdb()  # Redis lost everything
    assert sweep().requeued_lost == 1
    assert queue.job_ids == [version.job_id]
    assert sweep().requeued_lost == 0  # and it is not enqueued twice


def test_the_sweeper_rescues_a_version_whose_worker_died(cup, settings, redis_conn):
    version = upload(cup, coffee_bytes())
    version.claim_for_processing("dead-host:1")
    ImageVersion.objects.filter(pk=version.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS + 5)
    )
    redis_conn.flushdb()

    report = sweep()

    version.refresh_from_db()
    assert report.rescued_stale == 1
    assert version.status == VersionStatus.QUEUED
    assert "worker stopped" in version.error
