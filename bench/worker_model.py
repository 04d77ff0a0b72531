"""Where should the segmentation model live: in each forked job, or in the worker?

Runs the same N segmentation jobs through RQ's default forking Worker (a new
ONNX Runtime session in every work horse, since a session must not cross fork())
and through LightboxWorker (SimpleWorker: one session per worker process), on
the real Redis, and prints wall time per job, the model-load share and peak RSS.

    .venv/bin/python bench/worker_model.py [--jobs 20] [--model u2netp]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from _setup import ROOT, django_setup, table


def run(worker_cls, jobs: int, photo: str) -> dict:
    import django_rq
    from rq import Worker
    from rq.serializers import JSONSerializer

    queue = django_rq.get_queue("low")
    queue.empty()
    enqueued = [queue.enqueue("bench.jobs.segment_file", photo) for _ in range(jobs)]
    kwargs = {"connection": queue.connection}
    if worker_cls is Worker:
        kwargs["serializer"] = JSONSerializer
    worker = worker_cls([queue], **kwargs)
    started = time.perf_counter()
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
    wall = time.perf_counter() - started
    results = [job.latest_result() for job in enqueued]
    values = [r.return_value for r in results if r is not None and r.return_value]
    if len(values) != jobs:
        raise SystemExit(f"{worker_cls.__name__}: only {len(values)} of {jobs} jobs succeeded")
    return {
        "wall_per_job_ms": wall * 1000 / jobs,
        "model_ms_median": statistics.median(v["model_ms"] for v in values),
        "segment_ms_median": statistics.median(v["segment_ms"] for v in values),
        "processes": len({v["pid"] for v in values}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()
    django_setup()
    from django.conf import settings
    from rq import Worker

    from catalog.demo import photo_dir
    from processing.worker import LightboxWorker

    photo = str(photo_dir() / "coffee.png")
    print(f"model {settings.LIGHTBOX_MODEL_NAME}, {args.jobs} jobs of a 600x400 photo, repo {ROOT}")
    forking = run(Worker, args.jobs, photo)
    simple = run(LightboxWorker, args.jobs, photo)
    rows = [
        (
            name,
            f"{r['wall_per_job_ms']:.0f}",
            f"{r['model_ms_median']:.0f}",
            f"{r['segment_ms_median']:.0f}",
            r["processes"],
        )
        for name, r in (("Worker (fork per job)", forking), ("LightboxWorker (SimpleWorker)", simple))
    ]
    print(table(rows, ("worker", "wall ms/job", "model load ms (median)", "segment ms", "processes")))
    print(f"ratio fork/simple wall per job: {forking['wall_per_job_ms'] / simple['wall_per_job_ms']:.2f}x")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
