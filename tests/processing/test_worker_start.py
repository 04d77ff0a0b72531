"""What a worker says about its inference when it starts (the README's GPU worker notes
tell an operator to read this line)."""

from __future__ import annotations

import logging

import django_rq

from processing.worker import LightboxWorker


def start_a_worker(redis_conn) -> None:
    queue = django_rq.get_queue("default")
    LightboxWorker([queue], connection=redis_conn).work(burst=True, with_scheduler=False)


def test_a_worker_names_its_providers_threads_and_batch_at_start(settings, redis_conn, caplog):
    settings.LIGHTBOX_ONNX_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    settings.LIGHTBOX_ONNX_THREADS = 3

    with caplog.at_level(logging.INFO, logger="rq.worker"):
        start_a_worker(redis_conn)

    (line,) = [r.getMessage() for r in caplog.records if "inference:" in r.getMessage()]
    assert "providers configured=CUDAExecutionProvider,CPUExecutionProvider" in line
    # This machine's onnxruntime is the CPU build: the CUDA provider is configured, not used.
    assert "used=CPUExecutionProvider;" in line
    assert "onnx_threads=3" in line
    assert "batch=1 (one photo per job)" in line


def test_a_worker_configured_for_cpu_only_says_so(settings, redis_conn, caplog):
    settings.LIGHTBOX_ONNX_PROVIDERS = ["CPUExecutionProvider"]

    with caplog.at_level(logging.INFO, logger="rq.worker"):
        start_a_worker(redis_conn)

    (line,) = [r.getMessage() for r in caplog.records if "inference:" in r.getMessage()]
    assert "configured=CPUExecutionProvider offered=" in line
