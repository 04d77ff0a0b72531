"""The RQ worker class Lightbox runs: no fork per job, JSON on the wire.

SimpleWorker runs jobs in the worker process itself, so the segmentation model
is loaded once per worker instead of once per job, and no ONNX Runtime session
ever crosses a fork(). The price is isolation: a crash in native code takes the
worker down with the job. The database still records the version as PROCESSING
and the sweeper re-enqueues it, and the process supervisor restarts the
worker. bench/worker_model.py measures the trade-off; the README has the figures.

Around each job the worker sets the log context (job, version, batch, worker:
lightbox.joblog) and records the job's duration and outcome for /metrics
(processing.metrics).
"""

from __future__ import annotations

import time
from typing import Any

from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from lightbox.joblog import job_context

# Jobs whose first argument is an ImageVersion id: the log context names it from the start.
_VERSION_JOBS = {"process_version", "render_version"}


class LightboxWorker(SimpleWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Always JSON, whatever the caller passes (django-rq's rqworker defaults to pickle,
        # which on a shared Redis is remote code execution); queues and workers must agree.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)

    def execute_job(self, job: Job, queue: Queue) -> None:
        name = (job.func_name or "").rpartition(".")[2]
        version_id = str(job.args[0]) if name in _VERSION_JOBS and job.args else None
        started = time.perf_counter()
        with job_context(job=name, job_id=job.id, worker=self.name, version_id=version_id):
            super().execute_job(job, queue)
            _record(name, job, time.perf_counter() - started)


def _record(name: str, job: Job, seconds: float) -> None:
    from processing import metrics

    status = job.get_status(refresh=False)
    if status == JobStatus.FINISHED:
        outcome = metrics.outcome_label(job._result)
    elif status in (JobStatus.SCHEDULED, JobStatus.QUEUED):
        outcome = "retrying"  # failed, and RQ's Retry put it back
    else:
        outcome = "error"
    metrics.record_durations("job", [(name, outcome, seconds)])
