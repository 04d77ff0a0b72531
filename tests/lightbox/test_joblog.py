"""Every line a job logs names its job, version, batch and worker; JSON when asked."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import django_rq
import pytest

from catalog.models import UploadBatch
from lightbox import jobs
from lightbox.joblog import JobContextFilter, JsonFormatter, PlainFormatter, job_context
from processing.worker import LightboxWorker


@pytest.fixture
def captured():
    """Root logger lines in JSON, through the same filter and formatter as settings.LOGGING."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(JobContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


@pytest.mark.django_db(transaction=True)
def test_every_line_of_a_job_carries_its_version_batch_and_worker(
    captured, product, make_version, settings, redis_conn
):
    settings.LIGHTBOX_MAX_ATTEMPTS = 1
    batch = UploadBatch.objects.create()
    version = make_version(product)
    version.source.batch = batch
    version.source.save(update_fields=["batch"])
    version.source.file.storage.delete(version.source.file.name)  # it will fail, and log why
    jobs.queue_processing(version)
    queue = django_rq.get_queue("default")
    worker = LightboxWorker([queue], connection=queue.connection)

    worker.work(burst=True, with_scheduler=False)

    lines = captured()
    in_job = [line for line in lines if line.get("job_id") == version.job_id]
    gave_up = [line for line in in_job if "gave up" in line["message"]]
    assert gave_up, lines
    assert gave_up[0]["level"] == "ERROR"
    assert "exception" in gave_up[0]
    for line in gave_up:
        assert line["job"] == "process_version"
        assert line["version_id"] == str(version.pk)
        assert line["batch_id"] == str(batch.pk)
        assert line["worker"] == worker.name
    # RQ's own lines during the job carry the context too; the worker's idle lines do not.
    assert any(line["logger"].startswith("rq.") for line in in_job)
    assert any(line["logger"].startswith("rq.") and "job_id" not in line for line in lines)


def test_the_plain_format_appends_the_context_and_keeps_a_traceback_below():
    record = logging.LogRecord("lightbox.jobs", logging.ERROR, __file__, 1, "boom", None, None)
    formatter = PlainFormatter("%(levelname)s %(message)s")
    with job_context(job="render_version", version_id="v-1", worker="host:1"):
        JobContextFilter().filter(record)

    assert formatter.format(record) == "ERROR boom [job=render_version version_id=v-1 worker=host:1]"


def test_a_job_function_called_outside_a_worker_leaves_no_context_behind():
    from lightbox.joblog import add_to_job_context, current_job_context

    add_to_job_context(version_id="v-9")
    assert current_job_context() == {}
    with job_context(job="x"):
        add_to_job_context(version_id="v-9")
        assert current_job_context() == {"job": "x", "version_id": "v-9"}
    assert current_job_context() == {}


def test_outside_a_job_a_line_has_no_context():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain", None, None)
    JobContextFilter().filter(record)

    assert PlainFormatter("%(message)s").format(record) == "plain"
    assert set(json.loads(JsonFormatter().format(record))) == {"time", "level", "logger", "message"}


def test_lightbox_log_format_json_switches_the_console_to_json():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('lightbox.test').warning('hello %s', 'there')"
    )
    env = {**os.environ, "LIGHTBOX_LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)

    (line,) = result.stderr.strip().splitlines()
    assert json.loads(line) | {"time": "t"} == {
        "time": "t",
        "level": "WARNING",
        "logger": "lightbox.test",
        "message": "hello there",
    }
