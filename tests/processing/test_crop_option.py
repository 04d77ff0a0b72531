"""A reviewer's crop, in source pixels, cuts the working image before segmentation."""

from __future__ import annotations

import pytest
from PIL import Image

from processing.jobs import crop_ingested
from processing.pipeline.ingest import BadImage, IngestedImage


def ingested(working=(300, 200), original=(3000, 2000)) -> IngestedImage:
    image = Image.new("RGB", working, (255, 255, 255))
    image.paste((200, 30, 30), (30, 20, 150, 100))  # the product, at a tenth of source scale
    return IngestedImage(
        image=image,
        format="JPEG",
        original_size=original,
        has_alpha=False,
        icc_converted=False,
        was_animated=False,
        sha256="0" * 64,
        perceptual_hash="0" * 16,
    )


def test_a_crop_in_source_pixels_is_scaled_to_the_working_image():
    cropped = crop_ingested(ingested(), [300, 200, 1500, 1000])

    assert cropped.image.size == (120, 80)
    assert cropped.image.getextrema() == ((200, 200), (30, 30), (30, 30))
    assert cropped.original_size == (1200, 800), "resolution checks see the crop's real pixels"


def test_no_crop_leaves_the_image_alone():
    before = ingested()

    assert crop_ingested(before, None) is before


def test_a_crop_past_the_edge_is_clamped_to_the_photo():
    cropped = crop_ingested(ingested(), [2000, 1000, 3500, 2500])

    assert cropped.original_size == (1000, 1000)
    assert cropped.image.size == (100, 100)


def test_a_crop_wholly_outside_the_photo_fails_the_version_permanently():
    with pytest.raises(BadImage, match="crop"):
        crop_ingested(ingested(), [3100, 0, 3200, 100])
