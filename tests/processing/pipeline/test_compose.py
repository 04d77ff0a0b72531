from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from processing.pipeline.compose import (
    compose_master,
    place_on_canvas,
    product_bbox,
    touching_edges,
)
from tests.processing.pipeline.scenes import NAVY, product_scene, to_mask

GREEN_SCREEN = (40, 200, 60)
PALE_YELLOW = (240, 222, 120)
WHITE = (255, 255, 255)


def _distance(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.sqrt(((pixels.astype(np.float32) - np.asarray(colour, np.float32)) ** 2).sum(-1))


def _luma(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _master(size=(320, 320), box=None, colour=NAVY, backdrop=GREEN_SCREEN) -> Image.Image:
    scene = product_scene(size, box=box, colour=colour, backdrop=backdrop, texture=0, noise=1)
    return compose_master(scene.image, scene.model_mask(1.5)).image


def _alpha_bbox(canvas: Image.Image) -> tuple[int, int, int, int]:
    return product_bbox(canvas.getchannel("A"))


# product_bbox


def test_the_product_bbox_spans_the_confident_pixels_right_and_bottom_exclusive():
    mask = np.zeros((50, 80), np.uint8)
    mask[10:20, 30:45] = 200
    mask[25, 5] = 100  # below the threshold

    assert product_bbox(Image.fromarray(mask)) == (30, 10, 45, 20)
    assert product_bbox(Image.fromarray(mask), threshold=100) == (5, 10, 45, 26)


def test_an_empty_mask_has_no_bbox():
    assert product_bbox(Image.new("L", (40, 30), 127)) is None


# compose_master


def test_the_master_is_trimmed_to_the_product_plus_padding():
    scene = product_scene(box=(60, 80, 260, 240))
    mask = scene.model_mask()

    composed = compose_master(scene.image, mask, padding=0.05)

    left, top, right, bottom = composed.bbox
    assert (left, top, right, bottom) == product_bbox(mask)
    assert abs(left - 60) <= 1
    assert abs(top - 80) <= 1
    assert abs(right - 260) <= 1
    assert abs(bottom - 240) <= 1
    pad = round(0.05 * 200)
    assert composed.image.mode == "RGBA"
    assert composed.image.size == (right - left + 2 * pad, bottom - top + 2 * pad)


def test_the_master_alpha_is_the_mask_without_its_faint_haze():
    scene = product_scene(box=(60, 80, 260, 240))
    mask = np.array(scene.model_mask())
    mask[mask == 0] = 5  # a faint haze over the whole backdrop

    composed = compose_master(scene.image, Image.fromarray(mask), padding=0.05)

    alpha = np.asarray(composed.image.getchannel("A"))
    left, top, right, bottom = composed.bbox
    pad = round(0.05 * 200)
    source = mask[top - pad : bottom + pad, left - pad : right + pad]
    assert (alpha[source < 8] == 0).all()
    assert (alpha[source >= 8] == source[source >= 8]).all()
    assert (alpha[:, :3] == 0).all()
    assert (alpha[:3] == 0).all()


def test_the_edge_carries_the_product_colour_not_the_old_backdrop():
    scene = product_scene(colour=NAVY, backdrop=GREEN_SCREEN, texture=0, noise=1)
    mask = scene.model_mask(1.5)
    composed = compose_master(scene.image, mask, padding=0.05)

    rgba = np.asarray(composed.image)
    edge = (rgba[..., 3] > 0) & (rgba[..., 3] < 255)
    left, top, right, bottom = composed.bbox
    pad = round(0.05 * (bottom - top))
    source = np.asarray(scene.image.crop((left - pad, top - pad, right + pad, bottom + pad)))

    assert edge.sum() > 500
    # Without the clean-up these pixels would show the green screen through...
    assert _distance(source[edge], NAVY).mean() > 60
    # ...with it, every one of them is the product's own colour.
    assert _distance(rgba[..., :3][edge], NAVY).max() < 12


def test_transparent_pixels_carry_no_backdrop_colour_either():
    rgba = np.asarray(_master())

    transparent = rgba[..., 3] == 0
    assert _distance(rgba[..., :3][transparent], GREEN_SCREEN).min() > 100


def test_a_product_in_the_middle_touches_no_edge():
    assert compose_master(product_scene().image, product_scene().model_mask()).touches_edges == ()


def test_a_product_cut_off_at_the_bottom_says_so():
    scene = product_scene(box=(90, 150, 230, 380))

    composed = compose_master(scene.image, scene.model_mask())

    assert composed.touches_edges == ("bottom",)
    # The padding past the frame is transparent, not invented.
    alpha = np.asarray(composed.image.getchannel("A"))
    assert (alpha[-2:] == 0).all()


def test_a_product_filling_a_corner_touches_both_edges():
    scene = product_scene(box=(-40, 150, 200, 400), shape="rectangle")

    assert compose_master(scene.image, scene.model_mask()).touches_edges == ("bottom", "left")


def test_one_stray_pixel_on_the_frame_is_not_a_cut_off():
    foreground = np.zeros((100, 100), bool)
    foreground[30:70, 30:70] = True
    foreground[0, 50] = True
    foreground[99, 10:12] = True

    assert touching_edges(foreground) == {}

    foreground[99, 10:40] = True
    assert touching_edges(foreground) == {"bottom": pytest.approx(0.30)}


def test_an_empty_mask_is_refused():
    with pytest.raises(ValueError, match="empty mask"):
        compose_master(product_scene().image, Image.new("L", (320, 320), 100))


def test_a_mask_of_another_size_is_refused():
    with pytest.raises(ValueError, match="size"):
        compose_master(product_scene().image, Image.new("L", (100, 100), 255))


# place_on_canvas


@pytest.mark.parametrize(
    ("box", "canvas", "fill_ratio"),
    [
        ((60, 80, 260, 240), (500, 500), 0.85),  # wide product, square canvas
        ((110, 40, 210, 290), (500, 500), 0.85),  # tall product, square canvas
        ((40, 120, 280, 200), (400, 500), 0.9),  # wide product, portrait canvas
        ((60, 60, 260, 260), (640, 360), 0.75),  # round product, landscape canvas
        ((140, 140, 180, 180), (500, 500), 0.85),  # small product, enlarged
    ],
)
def test_the_product_spans_the_fill_ratio_on_its_binding_axis(box, canvas, fill_ratio):
    master = _master(box=box)
    left, top, right, bottom = product_bbox(master.getchannel("A"))

    placed = place_on_canvas(master, canvas, fill_ratio=fill_ratio, background=None)

    p_left, p_top, p_right, p_bottom = _alpha_bbox(placed)
    width, height = p_right - p_left, p_bottom - p_top
    target_w, target_h = fill_ratio * canvas[0], fill_ratio * canvas[1]
    # Within a pixel or two: the edge is soft and the bbox counts whole pixels.
    assert width <= target_w + 2
    assert height <= target_h + 2
    assert min(abs(width - target_w), abs(height - target_h)) <= 2
    assert width / height == pytest.approx((right - left) / (bottom - top), rel=0.03)


def test_the_product_is_centred():
    placed = place_on_canvas(_master(box=(30, 60, 200, 300)), (600, 500), fill_ratio=0.8, background=None)

    left, top, right, bottom = _alpha_bbox(placed)
    assert (left + right) / 2 == pytest.approx(300, abs=1)
    assert (top + bottom) / 2 == pytest.approx(250, abs=1)


def test_a_transparent_canvas_keeps_clean_edges():
    placed = place_on_canvas(_master(colour=PALE_YELLOW), (480, 480), fill_ratio=0.85, background=None)

    assert placed.mode == "RGBA"
    rgba = np.asarray(placed)
    assert rgba[0, 0, 3] == 0
    # Below about a quarter opacity 8-bit premultiplied colour is too coarse to compare.
    edge = (rgba[..., 3] >= 64) & (rgba[..., 3] < 255)
    assert edge.sum() > 100
    assert _distance(rgba[..., :3][edge], PALE_YELLOW).max() < 12


def test_a_white_background_is_pure_white_wherever_the_product_is_not():
    master = _master(colour=PALE_YELLOW, box=(50, 90, 270, 230))
    options = {"fill_ratio": 0.85}

    placed = place_on_canvas(master, (500, 500), background=WHITE, **options)
    product = np.asarray(place_on_canvas(master, (500, 500), background=None, **options))

    assert placed.mode == "RGB"
    rgb = np.asarray(placed)
    background = product[..., 3] == 0
    assert background.mean() > 0.3
    assert (rgb[background] == 255).all()
    # No dark fringe: nothing on the canvas is darker than the product itself.
    assert _luma(rgb).min() >= _luma(np.asarray([PALE_YELLOW])).min() - 6


def test_a_coloured_background_is_flattened_without_a_fringe():
    grey = (200, 200, 200)
    placed = np.asarray(
        place_on_canvas(_master(colour=PALE_YELLOW), (400, 400), fill_ratio=0.7, background=grey)
    )

    assert (placed[0, 0] == grey).all()
    assert _luma(placed).min() >= min(_luma(np.asarray([PALE_YELLOW, grey]))) - 6


def test_a_shadow_darkens_the_floor_under_the_product_only():
    master = _master(box=(60, 80, 260, 240))
    options = {"fill_ratio": 0.8}

    plain = np.asarray(place_on_canvas(master, (500, 500), background=WHITE, **options))
    shaded = np.asarray(place_on_canvas(master, (500, 500), background=WHITE, shadow=True, **options))
    product = np.asarray(place_on_canvas(master, (500, 500), background=None, **options))

    floor = product[..., 3] == 0
    changed = (plain != shaded).any(axis=2) & floor
    assert changed.sum() > 100
    rows = np.nonzero(changed)[0]
    assert abs(np.median(rows) - _alpha_bbox(Image.fromarray(product))[3]) < 10
    assert shaded[changed].min() > 150  # soft, not a black blot
    assert (shaded[:60] == 255).all()
    assert (shaded[:, :40] == 255).all()


def test_a_transparent_canvas_gets_no_shadow():
    master = _master()
    plain = place_on_canvas(master, (300, 300), fill_ratio=0.8, background=None)
    shaded = place_on_canvas(master, (300, 300), fill_ratio=0.8, background=None, shadow=True)

    assert np.array_equal(np.asarray(plain), np.asarray(shaded))


@pytest.mark.parametrize("fill_ratio", [0.0, -0.5, 1.2])
def test_a_fill_ratio_outside_the_canvas_is_refused(fill_ratio):
    with pytest.raises(ValueError, match="fill_ratio"):
        place_on_canvas(_master(), (300, 300), fill_ratio=fill_ratio, background=WHITE)


def test_a_master_without_a_product_is_refused():
    empty = Image.new("RGBA", (50, 50), (10, 10, 10, 0))

    with pytest.raises(ValueError, match="no opaque product"):
        place_on_canvas(empty, (300, 300), fill_ratio=0.8, background=WHITE)


def test_an_opaque_master_fills_the_canvas_as_a_rectangle():
    master = to_mask(np.ones((60, 120))).convert("RGB")

    placed = place_on_canvas(master, (400, 400), fill_ratio=0.5, background=None)

    assert _alpha_bbox(placed) == (100, 150, 300, 250)
