"""How fast is a ghost-mannequin master, on one core?

    .venv/bin/python bench/ghost.py [--size 3300] [--repeat 7]

Generated photos (bench/ghost_photos.py): a T-shirt on a grey, skin and chroma-green
mannequin, `--size` px square (3300 px, the default, gives a master about 2000 px on its
long side), with an inner shot of the inside back at 0.6 of that size. The process is
pinned to one core and every numeric library limited to one thread before numpy loads.

Timed: `make_ghost` from the decoded photo and its cut-out mask to the composed master
(find the mannequin, despill, neck opening, inner shot placed, compose), and separately
encoding that master as PNG the way masters are stored (processing.pipeline.png).

Printed per mannequin: median and fastest of `--repeat` runs after a warm-up (wall clock,
and the process's CPU time: on a machine others share, CPU time is what one core of our
own would take), the master's size, and how well the result matches the photo's known
areas (mannequin left, garment kept, neck opening filled).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import ndimage  # noqa: E402

if __package__:
    from bench._setup import ROOT, table
else:
    from _setup import ROOT, table

sys.path.insert(0, str(ROOT))

from bench.ghost_photos import front_photo, inner_photo  # noqa: E402
from processing.pipeline.ghost import Cutout, make_ghost  # noqa: E402
from processing.pipeline.mannequin import preset  # noqa: E402
from processing.pipeline.png import encode_png  # noqa: E402

CASES = [("grey", "navy"), ("skin", "red"), ("green", "mustard")]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=3300)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows = []
    for mannequin, garment in CASES:
        photo = front_photo(args.size, mannequin, garment)
        inner = inner_photo(args.size * 6 // 10, garment)
        front = Cutout(photo.image, Image.fromarray(photo.alpha))
        back = Cutout(inner.image, Image.fromarray(inner.alpha))
        colour = preset(mannequin)
        result = make_ghost(front, colour, back)  # warm-up: tables, imports
        times, cpu = [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = make_ghost(front, colour, back)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        start = time.perf_counter()
        encode_png(result.master.image)
        encode = time.perf_counter() - start
        alpha = np.asarray(result.full)[..., 3]
        mannequin_core = ndimage.binary_erosion(photo.mannequin, iterations=2)
        outside_neck = mannequin_core & ~ndimage.binary_dilation(photo.neck_opening, iterations=3)
        neck = ndimage.binary_erosion(photo.neck_opening, iterations=2)
        garment_core = ndimage.binary_erosion(photo.garment, iterations=2)
        rows.append(
            (
                f"{mannequin} / {garment}",
                f"{args.size}²",
                f"{result.master.image.width}×{result.master.image.height}",
                f"{statistics.median(times) * 1000:.0f}",
                f"{min(times) * 1000:.0f}",
                f"{statistics.median(cpu) * 1000:.0f}",
                f"{encode * 1000:.0f}",
                f"{(alpha[outside_neck] > 10).mean() * 100:.2f}%",
                f"{(alpha[garment_core] >= 250).mean() * 100:.2f}%",
                f"{(alpha[neck] >= 250).mean() * 100:.1f}%",
                ", ".join(result.reasons) or "none",
            )
        )
    header = (
        "mannequin / garment",
        "photo",
        "master",
        "median ms",
        "fastest ms",
        "CPU ms (median)",
        "PNG encode ms",
        "mannequin left",
        "garment kept",
        "neck filled",
        "reasons",
    )
    print(table(rows, header))
    print(f"one core, {args.repeat} runs after a warm-up; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
