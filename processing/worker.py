"""The RQ worker class Lightbox runs: no fork per job, JSON on the wire.

SimpleWorker runs jobs in the worker process itself, so the segmentation model
is loaded once per worker instead of once per job, and no ONNX Runtime session
ever crosses a fork(). The price is isolation: a crash in native code takes the
worker down with the job. The database still records the version as PROCESSING
and the sweeper re-enqueues it, and the process supervisor restarts the
worker. bench/worker_model.py measures the trade-off; the README has the figures.
"""

from __future__ import annotations

from typing import Any

from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker


class LightboxWorker(SimpleWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Always JSON, whatever the caller passes (django-rq's rqworker defaults to pickle,
        # which on a shared Redis is remote code execution); queues and workers must agree.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)
