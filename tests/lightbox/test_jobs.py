"""The job registry: every job registered once, queued after the commit, retried as configured."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.db import transaction

from catalog.models import Priority
from lightbox import jobs

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("catalog", "config", "lightbox", "processing", "review")


@pytest.mark.parametrize("job", list(jobs.JOBS.values()), ids=lambda job: job.name)
def test_every_registered_job_names_a_function_a_worker_can_import(job):
    function = job.function()

    assert inspect.isfunction(function)
    assert f"{function.__module__}.{function.__qualname__}" == job.path


def test_no_module_but_the_registry_puts_work_on_a_queue():
    callers = []
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "lightbox" / "jobs.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Attribute) and node.attr in {"enqueue", "enqueue_at", "enqueue_call"}:
                    callers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert callers == []


def test_retried_jobs_run_at_most_lightbox_max_attempts_times(settings):
    settings.LIGHTBOX_MAX_ATTEMPTS = 6
    retry = jobs.PROCESS_VERSION.retry()

    assert retry.max == 5
    assert retry.intervals == [10, 60, 300]
    assert jobs.RENDER_VERSION.retry().max == 5


def test_one_attempt_means_no_retry_and_unretried_jobs_never_retry(settings):
    settings.LIGHTBOX_MAX_ATTEMPTS = 1
    assert jobs.PROCESS_VERSION.retry() is None

    settings.LIGHTBOX_MAX_ATTEMPTS = 4
    assert jobs.RUN_EXPORT.retry() is None
    assert jobs.IMPORT_ARCHIVE.retry() is None


@pytest.mark.django_db(transaction=True)
def test_processing_is_queued_only_once_the_transaction_commits(product, make_version, redis_conn, settings):
    settings.LIGHTBOX_MAX_ATTEMPTS = 3
    version = make_version(product, priority=Priority.HIGH)
    queue = django_rq.get_queue("high")

    with transaction.atomic():
        jobs.queue_processing(version)
        assert queue.job_ids == []

    (job,) = queue.jobs
    assert job.id == version.job_id
    assert job.func_name == "processing.jobs.process_version"
    assert job.args == [str(version.pk)]
    assert job.retries_left == 2
    assert job.timeout == settings.RQ_JOB_TIMEOUT


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_queues_nothing(product, make_version, redis_conn):
    version = make_version(product)

    def failing_request():
        with transaction.atomic():
            jobs.queue_rendering(version)
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()

    assert all(django_rq.get_queue(name).job_ids == [] for name in settings.QUEUE_NAMES)


@pytest.mark.django_db(transaction=True)
def test_rendering_goes_to_the_priority_asked_for(product, make_version, redis_conn):
    version = make_version(product, priority=Priority.NORMAL)

    jobs.queue_rendering(version, priority=Priority.LOW)

    assert django_rq.get_queue("low").job_ids == [f"render-{version.pk}"]
    assert django_rq.get_queue("default").job_ids == []
