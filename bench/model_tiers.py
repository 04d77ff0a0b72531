"""What the stronger model costs: u2netp against u2net on one 1200 px photo.

Loads each model the way a worker does and times `segment()` (the model run plus
shrinking, mask refinement and the upsample) and the bare ONNX Runtime call.
The two models take turns run by run, after a warm-up each, so load from other
processes weighs on both alike; the fastest run is the least disturbed one.
No database or Redis needed.

    .venv/bin/python bench/model_tiers.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _setup import django_setup, table

MODELS = ("u2netp", "u2net")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    django_setup()
    import numpy as np
    from PIL import Image

    from catalog.demo import photo_dir
    from processing.model_cache import get_segmentation_model
    from processing.pipeline.segment import segment

    with Image.open(photo_dir() / "coffee.png") as img:
        photo = img.convert("RGB").resize((1200, 800), Image.Resampling.LANCZOS)
    tensor = np.random.default_rng(0).standard_normal((1, 3, 320, 320), dtype=np.float32)
    import rembg  # noqa: F401 - importing it (pymatting's JIT) is no model's load time

    models, load_ms, memory_mb = {}, {}, {}
    for name in MODELS:
        rss = _rss_mb()
        started = time.perf_counter()
        models[name] = get_segmentation_model(name)
        load_ms[name] = (time.perf_counter() - started) * 1000
        segment(photo, models[name])  # warm-up: first-run allocations
        memory_mb[name] = _rss_mb() - rss
    segment_ms: dict[str, list[float]] = {name: [] for name in MODELS}
    inference_ms: dict[str, list[float]] = {name: [] for name in MODELS}
    for _ in range(args.runs):
        for name, model in models.items():
            session = model.session.inner_session
            feed = {session.get_inputs()[0].name: tensor}
            started = time.perf_counter()
            segment(photo, model)
            segment_ms[name].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            session.run(None, feed)
            inference_ms[name].append((time.perf_counter() - started) * 1000)
    rows = [
        (
            name,
            f"{model.path.stat().st_size / 1e6:.1f}",
            f"{load_ms[name]:.0f}",
            f"{memory_mb[name]:.0f}",
            f"{statistics.median(inference_ms[name]):.0f} / {min(inference_ms[name]):.0f}",
            f"{statistics.median(segment_ms[name]):.0f} / {min(segment_ms[name]):.0f}",
            ",".join(model.providers),
        )
        for name, model in models.items()
    ]
    print(f"{photo.width}x{photo.height} photo, {args.runs} runs each, {os.cpu_count()} CPU cores")
    header = (
        "model",
        "MB",
        "load ms",
        "RSS +MB",
        "inference ms median / min",
        "segment ms median / min",
        "providers",
    )
    print(table(rows, header))
    for label, values in (("inference", inference_ms), ("segment", segment_ms)):
        ratio = statistics.median(values["u2net"]) / statistics.median(values["u2netp"])
        print(f"u2net / u2netp, {label} median: {ratio:.1f}x")


if __name__ == "__main__":
    main()
