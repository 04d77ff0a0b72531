"""Lifestyle scene composites: seconds per product per scene at 2000 px, on one core.

The demo catalog's products (catalog.demo_photos, 1600 px studio photos with their true
masks) are cut out by the pipeline's own compose stage, then each is put into each of the
three shipped scene templates (catalog.scenes.procedural, 2000 × 1500 px) by
processing.pipeline.scene.composite: scale from dimensions, colour match, decontaminated
edges, contact and cast shadows. "stage" adds what the worker does next with the result,
encoding the scene master as PNG. Pillow and numpy run on this thread only (numpy's
BLAS is not used); the process is pinned to one core where the OS allows.

    .venv/bin/python bench/scenes.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _setup import django_setup, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    django_setup()
    from catalog.demo import DEMO_PRODUCTS
    from catalog.demo_photos import shoot
    from catalog.scenes.procedural import DRAWINGS, SIZE
    from processing.pipeline.compose import compose_master
    from processing.pipeline.png import encode_png
    from processing.pipeline.scene import Placement, ProductSize, composite

    masters = []
    for item in DEMO_PRODUCTS:
        photo = shoot(item.shot)
        masters.append((item.sku, compose_master(photo.image, photo.mask).image))
    drawings = [draw(SIZE) for draw in DRAWINGS]
    rows = []
    every_composite, every_stage = [], []
    for drawing in drawings:
        placement = Placement(drawing.area, drawing.surface_y, drawing.light_side, drawing.area_width_cm)
        composites, stages = [], []
        for index, (_sku, master) in enumerate(masters):
            # Half the products with dimensions (a 20-45 cm object), half filling the default share.
            size = ProductSize(width_cm=20 + 5 * index) if index % 2 else ProductSize()
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = composite(drawing.image, master, placement, size)
                middle = time.perf_counter()
                encode_png(result.image)
                ended = time.perf_counter()
                composites.append(middle - started)
                stages.append(ended - started)
        every_composite += composites
        every_stage += stages
        rows.append(
            (
                drawing.name,
                f"{drawing.image.width}×{drawing.image.height}",
                f"{statistics.median(composites):.3f}",
                f"{max(composites):.3f}",
                f"{statistics.median(stages):.3f}",
            )
        )
    rows.append(
        (
            "all",
            "",
            f"{statistics.median(every_composite):.3f}",
            f"{max(every_composite):.3f}",
            f"{statistics.median(every_stage):.3f}",
        )
    )
    print(f"{len(masters)} products × {len(drawings)} scenes × {args.repeat} runs, one core")  # noqa: T201
    print(  # noqa: T201
        table(rows, ("scene", "size", "composite s (median)", "composite s (max)", "stage s (median, + PNG)"))
    )
    print(f"load average: {os.getloadavg()[0]:.2f}")  # noqa: T201


if __name__ == "__main__":
    main()
