"""One-click mask fixes on generated masks: each repairs its defect and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from processing.pipeline.mask_ops import (
    MaskOpError,
    drop_shadow,
    fill_holes,
    grow_at,
    keep_clicked,
    keep_largest,
)


def product(shape=(200, 300)) -> np.ndarray:
    """A rectangle product with a soft (128) edge ring, like an anti-aliased cut-out."""
    mask = np.zeros(shape, dtype=np.uint8)
    mask[40:160, 80:220] = 255
    mask[39, 80:220] = mask[160, 80:220] = 100
    return mask


def test_fill_holes_fills_an_enclosed_hole_and_keeps_the_soft_edge():
    mask = product()
    mask[90:110, 140:160] = 0

    fixed = fill_holes(mask)

    assert (fixed[90:110, 140:160] == 255).all()
    assert fixed[39, 100] == 100, "soft edge pixels outside the product are untouched"
    assert mask[100, 150] == 0, "the input is not changed"


def test_fill_holes_leaves_a_gap_that_opens_to_the_backdrop():
    mask = product()
    mask[90:110, 200:221] = 0  # a notch reaching the product's right edge

    assert (fill_holes(mask)[90:110, 205:221] == 0).all()


def test_keep_largest_drops_specks_and_stray_pieces():
    mask = product()
    mask[5:15, 5:15] = 255
    mask[180:190, 280:290] = 255

    fixed = keep_largest(mask)

    assert fixed[10, 10] == 0
    assert fixed[185, 285] == 0
    assert (fixed[40:160, 80:220] == 255).all()


def test_keep_clicked_keeps_only_the_objects_clicked():
    mask = product()
    mask[5:15, 5:15] = 255
    mask[180:190, 280:290] = 255

    fixed = keep_clicked(mask, [(10, 10), (100, 100)])

    assert fixed[10, 10] == 255
    assert fixed[100, 100] == 255
    assert fixed[185, 285] == 0


def test_keep_clicked_refuses_a_click_on_the_backdrop():
    with pytest.raises(MaskOpError, match="Click on an object"):
        keep_clicked(product(), [(1, 1)])


def test_keep_largest_refuses_an_empty_mask():
    with pytest.raises(MaskOpError, match="empty"):
        keep_largest(np.zeros((10, 10), dtype=np.uint8))


def test_drop_shadow_removes_the_shadow_band_under_the_product_only():
    mask = product()
    mask[160:185, 60:240] = 255  # the cut-out kept the floor shadow
    shadow = np.zeros(mask.shape, dtype=bool)
    shadow[160:185, 60:240] = True
    shadow[45:60, 90:120] = True  # shading high on the product's body: not the floor shadow

    fixed = drop_shadow(mask, shadow)

    assert (fixed[161:185, 60:240] == 0).all()
    assert (fixed[45:60, 90:120] == 255).all()
    assert (fixed[40:160, 80:220] == 255).all()


def test_drop_shadow_refuses_when_there_is_no_shadow_in_the_cut_out():
    with pytest.raises(MaskOpError, match="No shadow"):
        drop_shadow(product(), np.zeros((200, 300), dtype=bool))


def test_grow_at_takes_back_a_dropped_handle_by_its_colour():
    rgb = np.full((200, 300, 3), 240, dtype=np.uint8)  # light backdrop
    rgb[40:160, 80:220] = (180, 40, 40)  # red mug body
    rgb[70:130, 220:260] = (180, 40, 40)  # its handle, same glaze
    rng = np.random.default_rng(0)
    rgb = np.clip(rgb.astype(int) + rng.integers(-3, 4, rgb.shape), 0, 255).astype(np.uint8)
    mask = product()  # the model dropped the handle

    fixed = grow_at(mask, rgb, (240, 100))

    assert (fixed[70:130, 221:260] == 255).all()
    assert (fixed[0:30, :] == 0).all(), "the backdrop stays out"


def test_grow_at_refuses_a_click_on_the_backdrop_that_would_flood_the_frame():
    rgb = np.full((200, 300, 3), 240, dtype=np.uint8)
    rgb[40:160, 80:220] = (180, 40, 40)

    with pytest.raises(MaskOpError, match="backdrop"):
        grow_at(product(), rgb, (5, 5))
    with pytest.raises(MaskOpError, match="inside the photo"):
        grow_at(product(), rgb, (500, 5))
