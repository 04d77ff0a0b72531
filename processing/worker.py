"""The RQ worker class Lightbox runs: no fork per job, JSON on the wire.

SimpleWorker runs jobs in the worker process itself, so the segmentation model
is loaded once per worker instead of once per job, and no ONNX Runtime session
ever crosses a fork(). Before each job a database connection broken by an outage is
dropped, so the worker outlives a database restart. The price is isolation: a crash in native code takes the
worker down with the job. The database still records the version as PROCESSING
and the sweeper re-enqueues it, and the process supervisor restarts the
worker. bench/worker_model.py measures the trade-off; the README has the figures.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker


def drop_broken_connections() -> None:
    """Close every database connection that failed and is no longer usable, so the next
    query opens a fresh one. Django does this around each web request; a worker runs jobs
    for days, and after a database outage (or restart) its connection would otherwise
    stay broken and fail every later job."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and connection.errors_occurred and not connection.is_usable():
            connection.close()


class LightboxWorker(SimpleWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Always JSON, whatever the caller passes (django-rq's rqworker defaults to pickle,
        # which on a shared Redis is remote code execution); queues and workers must agree.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)

    def execute_job(self, job: Any, queue: Any) -> Any:
        drop_broken_connections()
        return super().execute_job(job, queue)
