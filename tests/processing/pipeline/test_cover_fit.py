"""The cover fit scenes render with: the picture fills the canvas, cropped around its focus."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from processing.pipeline.compliance import check
from processing.pipeline.render import RenditionMetadata, cover_canvas, render
from processing.pipeline.spec import RenditionSpec, SpecError


def wide_scene() -> Image.Image:
    """A 1600 × 900 scene with a red marker near its right edge."""
    image = Image.new("RGB", (1600, 900), (180, 170, 160))
    ImageDraw.Draw(image).rectangle((1380, 500, 1460, 640), fill=(220, 20, 20))
    return image


def red_share(image: Image.Image) -> float:
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    return float(((rgb[..., 0] > 180) & (rgb[..., 1] < 80)).mean())


def test_a_cover_spec_with_a_focus_reads_back_as_itself():
    spec = RenditionSpec(500, 500, 0.85, "jpeg", 85, background_mode="any", fit="cover", focus=(0.89, 0.6))

    text = str(spec)

    assert "fit-cover|focus-0.89x0.6" in text
    assert RenditionSpec.parse(text) == spec
    # A contain spec keeps the string it always had: no fit part, so no new keys.
    assert "fit" not in str(RenditionSpec(500, 500, 0.85, "jpeg", 85))


def test_a_focus_without_a_cover_fit_is_refused():
    with pytest.raises(SpecError, match="cover fit only"):
        RenditionSpec(500, 500, 0.85, "jpeg", 85, focus=(0.5, 0.5))


def test_a_square_crop_of_a_wide_scene_keeps_its_focus_in_frame():
    scene = wide_scene()

    centred = cover_canvas(scene, (400, 400))
    focused = cover_canvas(scene, (400, 400), (1420 / 1600, 570 / 900))

    assert centred.size == focused.size == (400, 400)
    assert red_share(centred) == 0  # the centre crop loses the product at the right
    assert red_share(focused) > 0.01


def test_a_scene_rendition_fills_the_canvas_and_passes_its_checks():
    spec = RenditionSpec(400, 400, 0.85, "jpeg", 85, background_mode="any", fit="cover", focus=(0.9, 0.6))
    meta = RenditionMetadata(sku="MUG-001", title="Mug")

    rendered = render(wide_scene().convert("RGBA"), spec, meta)
    result = check(rendered.data, spec, expected=meta)

    assert result.passed, result.as_dict()
    with Image.open(io.BytesIO(rendered.data)) as decoded:
        assert decoded.size == (400, 400)
        assert decoded.convert("RGB").getpixel((2, 2))[0] < 200  # the scene's wall, not a white margin
