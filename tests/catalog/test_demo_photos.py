"""The demo catalog's photos: made in code, at marketplace size, the same every time,
clean studio shots except the two that are flagged on purpose."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab

from catalog.demo import DEMO_PRODUCTS
from catalog.demo_photos import SHAPES, SIZE, Finish, Shot, jpeg_bytes, shoot
from catalog.models import sku_validator
from processing.naming import amazon_identifier
from processing.pipeline.compose import touching_edges

# Small enough to keep the checks of every shot quick; the layout scales with the size.
CHECK_SIDE = 600

CLEAN = [item for item in DEMO_PRODUCTS if not item.shot.defect]


def by_defect(defect: str):
    return next(item for item in DEMO_PRODUCTS if item.shot.defect == defect)


def ean13_is_valid(code: str) -> bool:
    if len(code) != 13 or not code.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


def sharpness(photo, region: np.ndarray) -> float:
    grey = np.asarray(photo.image.convert("L"), dtype=np.float32)
    return float(ndimage.laplace(grey)[region].var())


def test_every_demo_photo_is_a_jpeg_at_marketplace_resolution():
    for item in DEMO_PRODUCTS:
        with Image.open(io.BytesIO(item.photo())) as image:
            assert image.format == "JPEG", item.sku
            assert image.mode == "RGB", item.sku
            assert image.size == (SIZE, SIZE), item.sku
    assert SIZE >= 1500  # every seeded marketplace minimum, Walmart's 1500 × 1500 the largest


def test_the_same_shot_always_gives_the_same_bytes():
    for item in DEMO_PRODUCTS[:2]:
        assert jpeg_bytes(item.shot) == jpeg_bytes(item.shot)


def test_another_seed_gives_another_photo():
    shot = DEMO_PRODUCTS[0].shot
    first = np.asarray(shoot(shot, CHECK_SIDE).image, dtype=np.int16)
    second = np.asarray(shoot(replace(shot, seed=shot.seed + 1), CHECK_SIDE).image, dtype=np.int16)
    assert first.shape == second.shape
    assert np.abs(first - second).mean() > 1


def test_the_mask_matches_the_photo_and_holds_the_product():
    for item in DEMO_PRODUCTS:
        photo = shoot(item.shot, CHECK_SIDE)
        assert (photo.mask.mode, photo.mask.size) == ("L", photo.image.size)
        coverage = (np.asarray(photo.mask) == 255).mean()
        assert 0.1 < coverage < 0.6, item.sku


def test_a_clean_shot_keeps_the_product_inside_the_frame_with_a_margin():
    for item in CLEAN:
        product = np.asarray(shoot(item.shot, CHECK_SIDE).mask) == 255
        assert touching_edges(product) == {}, item.sku
        rows, cols = np.nonzero(product)
        margin = round(0.05 * CHECK_SIDE)
        assert min(rows.min(), cols.min()) > margin, item.sku
        assert max(rows.max(), cols.max()) < CHECK_SIDE - margin, item.sku


def test_the_cut_off_shot_runs_off_the_right_edge_of_the_frame():
    product = np.asarray(shoot(by_defect("cut_off").shot, CHECK_SIDE).mask) == 255
    touched = touching_edges(product)
    assert list(touched) == ["right"]
    assert touched["right"] > 0.1  # a good stretch of the edge, not a corner


def test_every_product_stands_out_from_its_backdrop():
    for item in DEMO_PRODUCTS:
        photo = shoot(replace(item.shot, defect=""), CHECK_SIDE)
        product = np.asarray(photo.mask) == 255
        backdrop = ~ndimage.binary_dilation(product, iterations=CHECK_SIDE // 30)
        lab = rgb2lab(np.asarray(photo.image))
        inside = ndimage.binary_erosion(product, iterations=3)
        difference = np.linalg.norm(lab[inside].mean(axis=0) - lab[backdrop].mean(axis=0))
        assert difference > 25, item.sku  # ΔE: far past anything a person could miss


def test_the_blurry_shot_is_far_softer_than_the_same_shot_in_focus():
    shot = by_defect("blurry").shot
    blurred, sharp = shoot(shot, CHECK_SIDE), shoot(replace(shot, defect=""), CHECK_SIDE)
    region = ndimage.binary_dilation(np.asarray(sharp.mask) == 255, iterations=2)
    assert sharpness(blurred, region) < sharpness(sharp, region) / 10


def test_exactly_two_demo_photos_are_flagged_on_purpose_one_cut_off_one_out_of_focus():
    assert sorted(item.shot.defect for item in DEMO_PRODUCTS if item.shot.defect) == ["blurry", "cut_off"]
    assert len(CLEAN) >= 6


def test_demo_products_have_valid_skus_and_eans_that_amazon_can_name_files_by():
    skus = [item.sku for item in DEMO_PRODUCTS]
    eans = [item.ean for item in DEMO_PRODUCTS]
    assert len(set(skus)) == len(skus)
    assert len(set(eans)) == len(eans)
    for item in DEMO_PRODUCTS:
        sku_validator(item.sku)
        assert ean13_is_valid(item.ean), item.ean
        assert item.ean.startswith("2")  # GS1's in-store range: never a real product's code
        identifier = amazon_identifier("", item.ean, "", item.sku)
        assert identifier == item.ean
        assert identifier.isalnum()


def test_a_shot_refuses_an_unknown_shape_or_defect_or_no_body():
    body = {"body": Finish((20, 20, 20))}
    with pytest.raises(ValueError, match="unknown shape"):
        Shot("teapot", body, seed=1)
    with pytest.raises(ValueError, match="unknown defect"):
        Shot("mug", body, seed=1, defect="overexposed")
    with pytest.raises(ValueError, match="'body' finish"):
        Shot("mug", {"cap": Finish((20, 20, 20))}, seed=1)


def test_every_shape_can_be_shot():
    for shape in SHAPES:
        photo = shoot(Shot(shape, {"body": Finish((60, 90, 140))}, seed=7), 300)
        assert (np.asarray(photo.mask) == 255).any(), shape
