"""Product photos with known masks, run through the production pipeline with the real model.

The photos come from bench/quality_set.py, which makes the benchmark's evaluation
set the same way: a silhouette filled with a crop of a real photograph, lit and
set on a studio backdrop. Each (kind, shape, seed) is run once per test session,
since the model is the slow part.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from bench.quality_set import Photo, make_photo
from processing.jobs import PipelineResult, StageClock, run_pipeline
from processing.pipeline.quality import DEFAULT_THRESHOLDS, QualityReport, Reason, Thresholds

# Big enough to pass the default minimum (1000 px), small enough to stay quick.
LONG_SIDE = 1200


@dataclass(frozen=True)
class Shot:
    photo: Photo
    result: PipelineResult

    @property
    def report(self) -> QualityReport:
        return self.result.report

    def iou(self) -> float:
        """IoU of the pipeline's mask with the true silhouette, at the photo's size."""
        return iou(foreground(self.result.mask, self.photo.mask.size), self.photo.truth())


def process(data: bytes, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> PipelineResult:
    return run_pipeline(data, thresholds=thresholds, options={}, clock=StageClock())


@cache
def shoot(kind: str, shape: str | None = None, seed: int | tuple[int, ...] = 0) -> Shot:
    """The photo of `kind` and `shape` (the seed's choice when None) for `seed`, and what
    the pipeline made of it."""
    photo = make_photo(kind, LONG_SIDE, seed=seed, shape=shape)
    return Shot(photo, process(photo.encode()))


@cache
def process_demo_photo(name: str) -> PipelineResult:
    """What the pipeline makes of one of the photographs scikit-image ships (catalog.demo)."""
    from catalog.demo import photo_dir

    return process((photo_dir() / name).read_bytes())


def codes(report: QualityReport) -> set[str]:
    return {reason.code for reason in report.reasons}


def reason(report: QualityReport, code: str) -> Reason:
    return next(r for r in report.reasons if r.code == code)


def foreground(mask: Image.Image, size: tuple[int, int]) -> np.ndarray:
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(mask) >= 128


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(int((a | b).sum()), 1))
