"""bench/ghost.py runs end to end on small photos and prints its figures per mannequin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ghost_bench_prints_a_row_per_mannequin_with_nothing_left_and_nothing_flagged():
    # Its own process: the bench pins itself to one core.
    run = subprocess.run(
        [sys.executable, "bench/ghost.py", "--size", "400", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [line.split() for line in run.stdout.splitlines() if line.startswith(("grey", "skin", "green"))]

    assert [row[0] for row in rows] == ["grey", "skin", "green"]
    for row in rows:
        assert row[-1] == "none"  # no reason flagged
        assert float(row[-3].rstrip("%")) >= 99.9  # garment kept
        assert float(row[-4].rstrip("%")) <= 0.1  # mannequin left
    assert "one core" in run.stdout
