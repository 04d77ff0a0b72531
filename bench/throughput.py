"""Images per hour through `process_images` against a plain rembg script, same inputs, same run.

Baseline: the straightforward script a team would write first: open each photo,
`rembg.remove(img, session=new_session(MODEL))`, save a PNG (one session for the
whole run, so the baseline is not penalised for reloading the model).

    .venv/bin/python bench/throughput.py [--count 40] [--megapixels 12] [--workers 1 2] [--batch-size 4]

Both sides run as child processes so their start-up and peak memory are measured alike.
Also a row for the one-process pipelined mode (`process_images --batch-size N`: decoding
and finishing in threads, the model given N photos per session run; built for a GPU).
Also printed: the same run with renditions for three profiles, where each image's
time goes (milliseconds per stage, from the workers' own clocks, one ONNX Runtime
thread per worker), and the peak memory of one worker on a 60 MP photo.
"""

from __future__ import annotations

import argparse
import json
import os
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


RENDER_PROFILES = "amazon-main,shopify,instagram-square"


def stage_budget(report: Path) -> list[tuple[str, str]]:
    """Mean milliseconds per image of each stage, from process_images' report."""
    rows = json.loads(report.read_text())
    totals: dict[str, int] = {}
    for row in rows:
        for stage, ms in row["timings_ms"].items():
            totals[stage] = totals.get(stage, 0) + ms
    count = max(len(rows), 1)
    budget = [(stage, f"{ms / count:.0f}") for stage, ms in totals.items()]
    budget.append(("sum of stages", f"{sum(totals.values()) / count:.0f}"))
    return budget


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the peak RSS in MB of the child or of the largest process it waited
    for (its pool workers), from this child's own rusage."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)  # noqa: S603
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd[:4])}… failed:\n{errors.read().decode()[-3000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--batch-size", type=int, default=4, help="the pipelined row's batch (0: no such row)"
    )
    parser.add_argument("--model", default="u2netp")
    parser.add_argument("--no-big", dest="big", action="store_false", help="skip the 60 MP memory check")
    parser.add_argument(
        "--make-inputs", nargs=3, metavar=("DIR", "COUNT", "MEGAPIXELS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.make_inputs:
        django_setup()
        make_inputs(Path(args.make_inputs[0]), int(args.make_inputs[1]), float(args.make_inputs[2]))
        return
    python = sys.executable
    # Where rembg finds the provisioned weights (settings read the same variable).
    os.environ.setdefault("U2NET_HOME", str(ROOT / "var" / "models"))

    def shoot(folder: Path, count: int, megapixels: float) -> None:
        # In a child: Linux folds a parent's peak memory into every child it later starts
        # (exec keeps the high-water mark), so this process stays small.
        command = [python, __file__, "--make-inputs", str(folder), str(count), str(megapixels)]
        subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603

    with tempfile.TemporaryDirectory() as tmp:
        big_line = ""
        if args.big:
            big = Path(tmp) / "big"
            shoot(big, 1, 60.0)
            wall, peak = timed(
                [python, "manage.py", "process_images", str(big), "--out", str(Path(tmp) / "bigout")]
                + ["--workers", "1", "--no-progress", "--profiles", RENDER_PROFILES]
            )
            big_line = f"one 60 MP photo, one worker, 3 renditions: {wall:.1f} s, peak RSS {peak:.0f} MB"
        inputs = Path(tmp) / "in"
        shoot(inputs, args.count, args.megapixels)
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
        runs = [(["--workers", str(workers)], "") for workers in args.workers]
        if args.batch_size:
            runs.append((["--batch-size", str(args.batch_size)], ""))
        runs.append((["--workers", str(max(args.workers))], RENDER_PROFILES))
        budget: list[tuple[str, str]] = []
        for i, (mode, profiles) in enumerate(runs):
            out = Path(tmp) / f"ours{i}"
            cmd = [python, "manage.py", "process_images", str(inputs), "--out", str(out)]
            cmd += [*mode, "--no-progress"]
            if profiles:
                cmd += ["--profiles", profiles]
            wall, peak = timed(cmd)
            rate = args.count / wall * 3600
            label = f"process_images {' '.join(mode)}" + (" + 3 renditions" if profiles else "")
            if mode[0] == "--batch-size":
                label += f" (one process, pipelined, {os.cpu_count()} + {os.cpu_count()} threads)"
            rows.append((label, f"{wall:.1f}", f"{rate:.0f}", f"{rate / base_rate:.2f}x", f"{peak:.0f}"))
            if profiles:
                budget = stage_budget(out / "report.json")
        print(
            table(
                rows, ("pipeline", "seconds", "images/hour", "vs baseline", "peak RSS MB (largest process)")
            )
        )
        print(f"\nwhere an image's time goes (ms per image, --workers {max(args.workers)}, with renditions)")
        print(table(budget, ("stage", "ms per image")))
        if big_line:
            print("\n" + big_line)


if __name__ == "__main__":
    main()
