"""Images per hour through `process_images` against a plain rembg script, same inputs, same run.

Baseline: the straightforward script a team would write first: open each photo,
`rembg.remove(img, session=new_session(MODEL))`, save a PNG (one session for the
whole run, so the baseline is not penalised for reloading the model).

    .venv/bin/python bench/throughput.py [--count 8] [--megapixels 12] [--workers 1 2]

Both sides run as child processes so their start-up and peak memory are measured alike.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, django_setup, table

BASELINE = """
import sys, time
from pathlib import Path
from PIL import Image
from rembg import new_session, remove
session = new_session(sys.argv[3])
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
for path in sorted(Path(sys.argv[1]).glob("*.jpg")):
    with Image.open(path) as img:
        remove(img, session=session).save(out / (path.stem + ".png"))
"""


def make_inputs(folder: Path, count: int, megapixels: float) -> None:
    """Product photos at the requested size: the demo catalog's studio shots made at that
    size, with fine grain so the JPEGs are as heavy as camera files."""
    import numpy as np
    from PIL import Image

    from catalog.demo import DEMO_PRODUCTS
    from catalog.demo_photos import shoot

    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        item = DEMO_PRODUCTS[i % len(DEMO_PRODUCTS)]
        big = shoot(item.shot, width).image.resize((width, height))
        grain = rng.normal(0, 4, (height, width, 1)).astype(np.int16)
        pixels = np.clip(np.asarray(big, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{i:02d}.jpg", quality=92)


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the child's peak RSS in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--model", default="u2netp")
    args = parser.parse_args()
    django_setup()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in"
        make_inputs(inputs, args.count, args.megapixels)
        print(f"{args.count} JPEGs of {args.megapixels:g} MP, model {args.model}")
        rows = []
        base_wall, base_peak = timed(
            [python, "-c", BASELINE, str(inputs), str(Path(tmp) / "base"), args.model]
        )
        base_rate = args.count / base_wall * 3600
        rows.append(
            (
                "rembg.remove + PNG (baseline)",
                f"{base_wall:.1f}",
                f"{base_rate:.0f}",
                "1.00x",
                f"{base_peak:.0f}",
            )
        )
        for workers in args.workers:
            out = Path(tmp) / f"ours{workers}"
            wall, peak = timed(
                [
                    python,
                    "manage.py",
                    "process_images",
                    str(inputs),
                    "--out",
                    str(out),
                    "--workers",
                    str(workers),
                    "--no-progress",
                ]
            )
            rate = args.count / wall * 3600
            rows.append(
                (
                    f"process_images --workers {workers}",
                    f"{wall:.1f}",
                    f"{rate:.0f}",
                    f"{rate / base_rate:.2f}x",
                    f"{peak:.0f}",
                )
            )
        print(
            table(
                rows, ("pipeline", "seconds", "images/hour", "vs baseline", "peak RSS MB (largest process)")
            )
        )


if __name__ == "__main__":
    main()
