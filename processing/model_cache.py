"""One segmentation session per worker process, created lazily in the process that uses it.

The cache is keyed by process id: a forked child never reuses its parent's
ONNX Runtime session (unsafe across fork()), it builds its own.
"""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings

from processing.pipeline.segment import SegmentationModel, available_providers, load_model

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[tuple[int, str], SegmentationModel] = {}


def onnx_threads() -> int:
    """Intra-op threads for this worker's sessions: the setting, or this machine's cores
    shared equally among its worker processes (no oversubscription)."""
    if settings.LIGHTBOX_ONNX_THREADS:
        return int(settings.LIGHTBOX_ONNX_THREADS)
    return max(1, (os.cpu_count() or 1) // settings.LIGHTBOX_WORKER_CONCURRENCY)


def inference_setup() -> str:
    """What a worker says at start about its inference: the onnxruntime build, the providers
    configured and the ones it offers, threads, and that a job is one photo (no batching:
    batches are for `process_images --batch-size`, see the README's throughput section).
    The session itself is made on the first job, whose "loaded model" line names the
    providers it really got (a CUDA provider whose libraries are missing falls back to CPU)."""
    import onnxruntime as ort

    offered = ort.get_available_providers()
    usable = available_providers(settings.LIGHTBOX_ONNX_PROVIDERS)
    return (
        f"inference: onnxruntime {ort.__version__} ({ort.get_device()}), "
        f"providers configured={','.join(settings.LIGHTBOX_ONNX_PROVIDERS)} "
        f"offered={','.join(offered)} used={','.join(usable)}; "
        f"model {settings.LIGHTBOX_MODEL_NAME} (session on the first job), "
        f"onnx_threads={onnx_threads()}, batch=1 (one photo per job), "
        f"worker processes on this machine={settings.LIGHTBOX_WORKER_CONCURRENCY}"
    )


def get_segmentation_model(name: str | None = None) -> SegmentationModel:
    name = name or settings.LIGHTBOX_MODEL_NAME
    key = (os.getpid(), name)
    model = _cache.get(key)
    if model is not None:
        return model
    with _lock:
        model = _cache.get(key)
        if model is None:
            model = load_model(
                name,
                settings.LIGHTBOX_MODEL_DIR,
                settings.LIGHTBOX_ONNX_PROVIDERS,
                threads=onnx_threads(),
            )
            logger.info(
                "loaded model %s sha256=%s providers=%s in %.2fs",
                model.name,
                model.sha256[:12],
                ",".join(model.providers),
                model.load_seconds,
            )
            # Drop entries another process (a fork parent) left behind.
            for stale in [k for k in _cache if k[0] != key[0]]:
                del _cache[stale]
            _cache[key] = model
    return model
