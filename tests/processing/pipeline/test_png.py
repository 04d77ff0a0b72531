import io

import numpy as np
import pytest
from PIL import Image

from processing.pipeline.png import encode_png


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (64, 48)])
def test_pillow_reads_back_exactly_the_pixels_written(mode: str, size: tuple[int, int]) -> None:
    channels = len(mode)
    rng = np.random.default_rng(sum(size) + channels)
    shape = (size[1], size[0]) if channels == 1 else (size[1], size[0], channels)
    original = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode)

    with Image.open(io.BytesIO(encode_png(original))) as decoded:
        decoded.load()
        assert decoded.format == "PNG"
        assert decoded.mode == mode
        assert decoded.tobytes() == original.tobytes()


def test_a_smooth_picture_compresses_well() -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (256, 1))
    picture = Image.fromarray(np.dstack([ramp, ramp.T, 255 - ramp]), mode="RGB")

    assert len(encode_png(picture)) < 256 * 256 * 3 / 20


def test_other_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="CMYK"):
        encode_png(Image.new("CMYK", (4, 4)))
