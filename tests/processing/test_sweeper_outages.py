"""The sweeper outlives the outages it exists for: real sweeps against a Redis that was
stopped and a database behind a cut connection, in-process and as the `sweep` command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import django_rq
import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import ImageVersion, UploadBatch, VersionStatus
from processing.sweep_loop import MAX_BACKOFF_SECONDS, next_wait, run_forever
from processing.sweeper import sweep
from tests.faults import PrivateRedis, TcpProxy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private_redis(tmp_path, settings):
    """The queues on a redis-server of the test's own, which it may stop."""
    redis = PrivateRedis(tmp_path)
    settings.RQ_QUEUES = {name: {**config, "URL": redis.url} for name, config in settings.RQ_QUEUES.items()}
    yield redis
    redis.stop()


def lost_version(product, make_version, minutes_ago: int = 5) -> ImageVersion:
    """A QUEUED version whose job Redis does not hold."""
    version = make_version(product)
    ImageVersion.objects.filter(pk=version.pk).update(
        queued_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return version


def settled_batch(product, make_version) -> UploadBatch:
    batch = UploadBatch.objects.create(closed_at=timezone.now())
    version = make_version(product, status=VersionStatus.FLAGGED, score=40)
    version.source.batch = batch
    version.source.save()
    return batch


def test_a_sweep_with_redis_down_logs_the_failed_step_and_still_finishes_batches(
    private_redis, product, make_version
):
    version = lost_version(product, make_version)
    batch = settled_batch(product, make_version)
    private_redis.stop()

    report = sweep()

    assert report.failed_steps == ["lost jobs"]
    assert report.batches_finished == 1  # a step that needs only PostgreSQL still ran
    batch.refresh_from_db()
    assert batch.finished_at is not None

    private_redis.start()  # Redis is back, empty
    report = sweep()

    assert report.failed_steps == []
    assert report.requeued_lost == 1
    assert django_rq.get_queue("default").job_ids == [version.job_id]


def test_the_wait_between_sweeps_doubles_while_they_fail_and_is_capped():
    assert [next_wait(60, n) for n in range(4)] == [60, 120, 240, MAX_BACKOFF_SECONDS]
    assert next_wait(60, 50) == MAX_BACKOFF_SECONDS
    assert next_wait(600, 3) == 600  # never shorter than the normal interval


def test_the_loop_goes_on_after_a_sweep_fails_and_backs_off(private_redis, product, make_version):
    lost_version(product, make_version)
    lines: list[str] = []
    waits: list[float] = []
    # The database is unreachable for the first sweep: every query raises.
    real_port = connection.settings_dict["PORT"]
    proxy = TcpProxy((connection.settings_dict["HOST"] or "127.0.0.1", int(real_port or 5432)))
    try:
        connection.close()
        connection.settings_dict["PORT"] = str(proxy.port)
        proxy.cut()

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            connection.close()  # drop the broken connection as a restart would
            proxy.restore()  # …and the database is back for the next sweep

        run_forever(10, lines.append, sleep=sleep, rounds=2)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
        proxy.stop()

    assert (
        "failed: stale processing, lost jobs, rendering, imports, idle batches, re-render runs, "
        "batches, webhooks, exports, Shopify pushes"
    ) in lines[0]
    assert waits == [20]  # backed off after the failure
    assert lines[-1].startswith("requeued 1 lost")


@pytest.fixture
def cuttable_database():
    proxy = TcpProxy(
        (connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432))
    )
    yield proxy
    proxy.stop()


def wait_for_line(lines: list[str], process: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if line:
            lines.append(line.rstrip())
            if needle in line:
                return line
        elif process.poll() is not None:
            raise AssertionError(f"the sweeper exited ({process.returncode}): {lines[-20:]}")
    raise AssertionError(f"no line with {needle!r} in {timeout} s: {lines[-20:]}")


def test_the_sweep_command_survives_redis_and_the_database_going_away_and_then_does_its_work(
    private_redis, cuttable_database, product, make_version, settings
):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{cuttable_database.port}/{db['NAME']}",
        "TEST_REDIS_URL": private_redis.url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    private_redis.stop()
    cuttable_database.cut()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sweep", "--every", "1", "--max-backoff", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    try:
        # The database is unreachable: the sweep fails, the process stays and backs off.
        wait_for_line(lines, process, "failed: stale processing, lost jobs")
        wait_for_line(lines, process, "backing off: next sweep in 2 s")
        assert process.poll() is None

        # The database is back, Redis is not: the Redis steps fail, the process stays.
        cuttable_database.restore()
        version = lost_version(product, make_version)
        line = wait_for_line(lines, process, "failed: lost jobs")
        assert line.rstrip().endswith("failed: lost jobs")
        assert process.poll() is None

        # Both are back: the lost job is queued again.
        private_redis.start()
        wait_for_line(lines, process, "requeued 1 lost")
        assert process.poll() is None
        assert django_rq.get_queue("default").job_ids == [version.job_id]
    finally:
        process.terminate()
        process.wait(timeout=20)
