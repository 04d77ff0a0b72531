"""Job functions the benchmarks enqueue (no database rows needed)."""

from __future__ import annotations

import os
import time

from PIL import Image


def segment_file(path: str) -> dict:
    from processing.model_cache import get_segmentation_model
    from processing.pipeline.segment import segment

    started = time.perf_counter()
    model = get_segmentation_model()
    loaded = time.perf_counter()
    with Image.open(path) as img:
        segment(img.convert("RGB"), model)
    done = time.perf_counter()
    return {"pid": os.getpid(), "model_ms": (loaded - started) * 1000, "segment_ms": (done - loaded) * 1000}
