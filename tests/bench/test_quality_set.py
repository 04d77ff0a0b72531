"""bench/quality_set.py's studio kinds: shot like the calibration studio, clean by label,
and never deserving a reason their label does not give."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from bench.quality_set import KINDS, STUDIO_KINDS, _cast_shadow, generate, make_photo, silhouette


@pytest.mark.parametrize("kind", STUDIO_KINDS)
def test_a_studio_kind_is_a_clean_shot_that_says_its_backdrop_and_shadow(kind):
    photo = make_photo(kind, 400, seed=3)

    assert photo.defects == KINDS[kind][1] == ()
    assert photo.backdrop in {"white-sweep", "light-grey", "warm"}
    assert photo.shadow in {"contact", "contact+cast"}
    assert photo.image.size == photo.mask.size
    assert set(np.unique(np.asarray(photo.mask))) == {0, 255}


def test_a_cast_shadow_darkens_the_backdrop_beside_the_product_and_never_lightens_it():
    size, box = (600, 450), (250.0, 100.0, 350.0, 380.0)
    alpha = silhouette(size, "bottle", box)

    darkening = _cast_shadow(alpha, box, np.random.default_rng(4))

    assert darkening.shape == alpha.shape
    assert darkening.max() <= 1.0
    # A clear shadow falls on the backdrop, outside the product (which is not in it).
    assert (darkening[alpha < 0.5] < 0.9).sum() > 0.05 * (alpha >= 0.5).sum()


@pytest.mark.parametrize("kind", [kind for kind, (_, defects) in KINDS.items() if not defects])
def test_a_clean_kind_is_never_blown_out_or_crushed_so_it_deserves_no_exposure_reason(kind):
    for seed in range(6):
        photo = make_photo(kind, 400, seed=seed)
        pixels = np.asarray(photo.image)
        inside = ndimage.binary_erosion(photo.truth())
        blown = (pixels[inside] >= 254).sum(axis=1) >= 2
        crushed = np.asarray(photo.image.convert("L"))[inside] <= 1

        # The gate's exposure limit is 5% of the product clipped either way.
        assert (blown | crushed).mean() < 0.05, (kind, seed)


def test_the_set_labels_say_the_product_backdrop_and_shadow_of_every_photo(tmp_path):
    labels = generate(tmp_path, count=15, long_side=200, seed=1)

    assert json.loads((tmp_path / "labels.json").read_text()) == labels
    assert {label["kind"] for label in labels.values()} == set(KINDS)
    for stem, label in labels.items():
        assert label["product"] == stem
        assert label["defects"] == list(KINDS[label["kind"]][1])
        assert label["backdrop"]
        assert label["shadow"]
