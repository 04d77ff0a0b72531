"""The whole pipeline, real u2netp model included, on product photos whose true masks are
known: does the cut-out match the product, and does the quality gate name what is wrong?

The photos are made in code (bench/quality_set.py) and their seeds are fixed, so every
run sees the same pixels; bench/quality.py measures the same kinds over many seeds.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from bench.quality_set import KINDS, generate, make_photo
from processing import jobs
from processing.pipeline.quality import DEFAULT_THRESHOLDS
from tests.processing.photoset import (
    LONG_SIDE,
    codes,
    foreground,
    iou,
    process,
    process_demo_photo,
    reason,
    shoot,
)

pytestmark = pytest.mark.usefixtures("model_dir")

# (kind, shape, seed): products on plain studio backdrops, each lit and textured differently.
STUDIO_SHOTS = [
    ("studio_white", "bottle", 0),
    ("studio_grey", "box", 1),
    ("studio_colour", "shoe", 2),
    ("studio_white", "mug", 0),
    ("studio_grey", "lamp", 2),
]
# The ones whose every signal is far from its limit: a mug's handle is a hole the gate
# asks about, and a lamp's thin stem sits close to the uncertain-edges limit.
CLEAN_SHOTS = STUDIO_SHOTS[:3]


@pytest.mark.parametrize(("kind", "shape", "seed"), STUDIO_SHOTS)
def test_a_product_on_a_plain_backdrop_is_cut_out_to_its_true_silhouette(kind, shape, seed):
    shot = shoot(kind, shape, seed)

    assert shot.iou() >= 0.95
    # On a plain backdrop the model is checked against a colour model of the backdrop.
    assert shot.result.second_opinion == "backdrop"


@pytest.mark.parametrize(("kind", "shape", "seed"), CLEAN_SHOTS)
def test_a_clean_studio_shot_passes_the_gate_with_no_reasons(kind, shape, seed):
    shot = shoot(kind, shape, seed)

    assert shot.report.passed
    assert shot.report.reasons == ()
    assert shot.report.score == 100
    assert shot.result.master is not None


def test_a_product_cut_off_by_the_frame_is_flagged_cut_off():
    shot = shoot("cut_off", "box")

    assert not shot.report.passed
    assert reason(shot.report, "cut_off").blocking
    # The cut-out itself is right: what is missing is missing from the photo.
    assert shot.iou() >= 0.95


def test_a_photo_below_the_minimum_size_is_flagged_low_resolution():
    shot = shoot("low_resolution", "box")

    assert max(shot.photo.image.size) == 600
    assert not shot.report.passed
    low = reason(shot.report, "low_resolution")
    assert (low.value, low.limit) == (600, DEFAULT_THRESHOLDS.min_long_side)
    assert codes(shot.report) == {"low_resolution"}


def test_an_out_of_focus_photo_is_flagged_blurry():
    shot = shoot("blurred", "box")

    assert not shot.report.passed
    assert "blurry" in codes(shot.report)
    assert shot.report.signals["edge_width"] > DEFAULT_THRESHOLDS.edge_width_max


def test_a_tiny_product_is_flagged_tiny_product():
    shot = shoot("tiny", "box")

    assert not shot.report.passed
    assert "tiny_product" in codes(shot.report)
    assert shot.report.signals["coverage"] < DEFAULT_THRESHOLDS.coverage_min


def test_a_side_of_the_product_the_model_missed_is_put_back_from_the_backdrop_model(monkeypatch):
    """The model is made to miss the right third of a box; the backdrop's colour model,
    which never sees the model's mask, still finds the whole box, and on a plain sweep the
    part it sees, outlined by the box's edges in the photo, is put back."""
    photo = make_photo("studio_white", LONG_SIDE, seed=1, shape="box")
    real_segment = jobs.segment

    def segment_missing_a_side(image, model, **options):
        segmentation = real_segment(image, model, **options)
        mask = np.array(segmentation.mask)
        columns = np.flatnonzero(mask.max(axis=0) >= 128)
        mask[:, columns[0] + 2 * (columns[-1] - columns[0]) // 3 :] = 0
        return dataclasses.replace(segmentation, mask=Image.fromarray(mask, mode="L"))

    monkeypatch.setattr(jobs, "segment", segment_missing_a_side)
    result = process(photo.encode())

    assert result.second_opinion == "backdrop"
    assert result.repair is not None
    assert result.repair["filled"] > 0.3
    assert result.repair["at"] == "at the right"
    assert iou(foreground(result.mask, photo.mask.size), photo.truth()) > 0.95
    assert "missing_part" not in codes(result.report)


def test_a_printed_box_the_model_cuts_out_wrongly_is_repaired_from_the_backdrop_model():
    """A real u2netp failure (plain rembg makes the same mask): on a box printed with a
    portrait it cuts out the person and drops the plain part of the print. The set's
    photo 0026 for seed 0 (bench/quality_set.py). Both models fail it (the cascade's part
    errors say so); the backdrop model's part is put back."""
    shot = shoot("studio_colour", seed=(0, 26))

    assert shot.photo.shape == "box"
    assert shot.result.second_opinion == "backdrop"
    assert min(shot.result.cascade["part_error"].values()) > 0.3
    assert shot.result.repair is not None
    assert shot.iou() > 0.95
    assert "missing_part" not in codes(shot.report)


@pytest.mark.parametrize("name", ["coffee.png", "motorcycle_left.png", "chelsea.png", "astronaut.png"])
def test_the_photographs_shipped_with_scikit_image_are_too_small_to_publish(name):
    result = process_demo_photo(name)

    assert not result.report.passed
    assert "low_resolution" in codes(result.report)


def test_the_coffee_cup_is_cut_out_from_its_table():
    result = process_demo_photo("coffee.png")
    mask = np.asarray(result.mask)
    height, width = mask.shape

    assert mask[height // 2, width // 2] >= 128
    for y, x in [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]:
        assert mask[y, x] < 128, f"corner {(x, y)} is in the cut-out"


def test_the_evaluation_set_pairs_every_photo_with_a_binary_mask_and_a_label(tmp_path):
    labels = generate(tmp_path, count=5, long_side=256, seed=3)

    assert json.loads((tmp_path / "labels.json").read_text()) == labels
    images = {path.stem: path for path in (tmp_path / "images").iterdir()}
    assert set(images) == set(labels) == {path.stem for path in (tmp_path / "masks").iterdir()}
    for stem, label in labels.items():
        assert label["defects"] == list(KINDS[label["kind"]][1])
        with Image.open(images[stem]) as photo, Image.open(tmp_path / "masks" / f"{stem}.png") as mask:
            assert mask.mode == "L"
            assert mask.size == photo.size
            assert set(np.unique(np.asarray(mask))) <= {0, 255}
