"""The RQ worker class Lightbox runs: no fork per job, JSON on the wire, fair queue order.

SimpleWorker runs jobs in the worker process itself, so the segmentation model
is loaded once per worker instead of once per job, and no ONNX Runtime session
ever crosses a fork(). Before and after each job a database connection broken by an
outage is dropped, so the worker outlives a database restart. The price is isolation: a
crash in native code takes the worker down with the job. The database still records
the version as PROCESSING and the sweeper re-enqueues it (at most LIGHTBOX_MAX_ATTEMPTS times), and the
process supervisor restarts the worker. bench/worker_model.py measures the
trade-off; the README has the figures.

Queue order (`fair_order`): the interactive queue always comes first, then the bulk
queues by priority (high, default, low), except that one dequeue in
LIGHTBOX_FAIR_SHARE_EVERY lets a lower bulk queue go first, taking turns. A Launch
batch still gets most of the workers, and back-catalog work keeps moving behind it
instead of waiting for the last Launch photo. RQ's RoundRobinWorker would give every
queue an equal share (a Launch batch would wait behind Normal work as often as not);
its RandomWorker gives no bound at all.

Around each job the worker sets the log context (job, version, batch, worker:
lightbox.joblog) and records the job's duration and outcome for /metrics
(processing.metrics).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from lightbox.joblog import job_context

# Jobs whose first argument is an ImageVersion id: the log context names it from the start.
_VERSION_JOBS = {"process_version", "render_version"}
Q = TypeVar("Q")


def fair_order(queues: Sequence[Q], names: Sequence[str], dequeued: int, every: int) -> list[Q]:
    """The order to listen to `queues` (named `names`, in priority order) after `dequeued`
    jobs: interactive first; on every `every`-th turn the next lower bulk queue in
    rotation leads the bulk ones."""
    interactive = [q for q, n in zip(queues, names, strict=True) if n == settings.INTERACTIVE_QUEUE]
    bulk = [q for q, n in zip(queues, names, strict=True) if n != settings.INTERACTIVE_QUEUE]
    if len(bulk) < 2 or dequeued == 0 or dequeued % every:
        return interactive + bulk
    fair_turn = dequeued // every  # 1, 2, 3 …
    lead = 1 + (fair_turn - 1) % (len(bulk) - 1)  # each lower queue in turn
    return interactive + [bulk[lead]] + [q for i, q in enumerate(bulk) if i != lead]


class LightboxWorker(SimpleWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Always JSON, whatever the caller passes (django-rq's rqworker defaults to pickle,
        # which on a shared Redis is remote code execution); queues and workers must agree.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)
        self._dequeued = 0

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        super().bootstrap(*args, **kwargs)
        from processing.model_cache import inference_setup

        self.log.info("Worker %s: %s", self.name, inference_setup())

    def reorder_queues(self, reference_queue: Any) -> None:
        self._dequeued += 1
        self._ordered_queues = fair_order(
            self.queues, [q.name for q in self.queues], self._dequeued, settings.LIGHTBOX_FAIR_SHARE_EVERY
        )

    def perform_job(self, job: Any, queue: Any) -> bool:
        # A long-lived worker outlives database restarts: drop a connection that broke (or
        # aged) before and after each job, as Django does around each request. Not inside a
        # test's transaction, which owns its connection.
        if not connection.in_atomic_block:
            close_old_connections()
        try:
            return bool(super().perform_job(job, queue))
        finally:
            if not connection.in_atomic_block:
                close_old_connections()

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
