from __future__ import annotations

import numpy as np
from PIL import Image

from processing.pipeline import backdrop
from processing.pipeline.backdrop import estimate_backdrop
from tests.processing.pipeline.scenes import (
    NEAR_WHITE,
    busy_backdrop,
    gradient_backdrop,
    iou,
    product_scene,
    shape_alpha,
)


def _foreground(estimate) -> np.ndarray:
    return np.asarray(estimate.mask) >= 128


def test_a_plain_studio_backdrop_is_recognised_with_its_colour():
    estimate = estimate_backdrop(product_scene().image)

    assert estimate.is_plain
    assert estimate.spread < backdrop.MAX_SPREAD / 1.5
    assert np.abs(np.subtract(estimate.color, NEAR_WHITE)).max() <= 2


def test_the_backdrop_mask_finds_the_product_at_the_input_size():
    scene = product_scene((300, 220))

    estimate = estimate_backdrop(scene.image)

    assert estimate.mask.mode == "L"
    assert estimate.mask.size == (300, 220)
    assert iou(_foreground(estimate), scene.true_foreground()) > 0.97


def test_the_mask_is_solid_on_the_product_and_empty_on_the_backdrop():
    scene = product_scene()

    values = np.asarray(estimate_backdrop(scene.image).mask)

    assert (values[scene.truth == 0] == 0).mean() > 0.99
    assert (values[scene.truth == 1] == 255).mean() > 0.99


def test_a_busy_background_is_not_plain_and_gives_no_mask():
    scene = product_scene(backdrop=busy_backdrop((320, 320)))

    estimate = estimate_backdrop(scene.image)

    assert not estimate.is_plain
    assert estimate.mask is None
    assert estimate.spread > backdrop.MAX_SPREAD


def test_the_caller_decides_how_plain_is_plain():
    estimate = estimate_backdrop(product_scene(noise=6).image, max_spread=0.005)

    assert not estimate.is_plain
    assert estimate.mask is None


def test_a_studio_sweep_with_falling_light_is_still_plain():
    scene = product_scene(backdrop=gradient_backdrop((320, 320)))

    estimate = estimate_backdrop(scene.image)

    assert estimate.is_plain
    assert iou(_foreground(estimate), scene.true_foreground()) > 0.97


def test_a_product_cut_off_by_the_frame_does_not_hide_the_backdrop():
    scene = product_scene(box=(80, 120, 240, 400))

    estimate = estimate_backdrop(scene.image)

    assert estimate.is_plain
    assert np.abs(np.subtract(estimate.color, NEAR_WHITE)).max() <= 2
    assert iou(_foreground(estimate), scene.true_foreground()) > 0.95


def test_an_opening_in_the_product_is_left_open():
    size = (320, 320)
    ring = shape_alpha(size, (60, 60, 260, 260)) - shape_alpha(size, (120, 120, 200, 200))
    scene = product_scene(size, box=(60, 60, 260, 260))
    photo = np.asarray(scene.image, np.float32)
    backdrop_colour = np.asarray(NEAR_WHITE, np.float32)
    hole = (scene.truth - ring)[..., None]
    photo = photo * (1 - hole) + backdrop_colour * hole
    image = Image.fromarray(np.round(photo).astype(np.uint8))

    values = np.asarray(estimate_backdrop(image).mask)

    assert values[160, 160] == 0
    assert values[90, 160] == 255


def test_specks_on_the_backdrop_are_not_foreground():
    scene = product_scene()
    photo = np.array(scene.image)
    rng = np.random.default_rng(3)
    for y, x in rng.integers(5, 60, size=(12, 2)):
        photo[y, x] = (20, 20, 20)

    values = np.asarray(estimate_backdrop(Image.fromarray(photo)).mask)

    assert values[:60, :60].max() == 0


def test_large_photos_are_modelled_small_and_answered_full_size(monkeypatch):
    monkeypatch.setattr(backdrop, "WORKING_LONG_SIDE", 128)
    scene = product_scene((400, 300))

    estimate = estimate_backdrop(scene.image)

    assert estimate.mask.size == (400, 300)
    assert iou(_foreground(estimate), scene.true_foreground()) > 0.95
