"""Synthetic product photos with known masks, made in code for the compose, quality and
backdrop tests: a textured product with an anti-aliased edge on a studio backdrop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

NEAR_WHITE = (246, 246, 244)
NAVY = (38, 62, 140)

_SUPERSAMPLE = 4


@dataclass(frozen=True)
class Scene:
    image: Image.Image  # "RGB" photo
    truth: np.ndarray  # float alpha 0..1, the product's true coverage of each pixel

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def model_mask(self, softness: float = 1.2) -> Image.Image:
        """What a good segmentation model returns: the truth with a slightly soft edge."""
        return to_mask(self.truth).filter(ImageFilter.GaussianBlur(softness))

    def true_foreground(self) -> np.ndarray:
        return self.truth >= 0.5


def to_mask(alpha: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8), mode="L")


def shape_alpha(
    size: tuple[int, int], box: tuple[float, float, float, float], shape: str = "ellipse"
) -> np.ndarray:
    """Anti-aliased coverage (0..1) of an ellipse or rounded rectangle in `box`."""
    width, height = size
    big = Image.new("L", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    scaled = [round(v * _SUPERSAMPLE) for v in box]
    if shape == "ellipse":
        draw.ellipse(scaled, fill=255)
    else:
        radius = min(scaled[2] - scaled[0], scaled[3] - scaled[1]) // 6
        draw.rounded_rectangle(scaled, radius=radius, fill=255)
    small = big.resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def product_scene(
    size: tuple[int, int] = (320, 320),
    *,
    box: tuple[float, float, float, float] | None = None,
    shape: str = "ellipse",
    colour: tuple[int, int, int] = NAVY,
    backdrop: tuple[int, int, int] | np.ndarray = NEAR_WHITE,
    texture: float = 12.0,
    noise: float = 3.0,
    seed: int = 0,
) -> Scene:
    """A product of `colour` with stripes (`texture` levels deep) and sensor `noise`,
    composited over `backdrop` (a colour, or an H×W×3 array) through its true alpha."""
    width, height = size
    rng = np.random.default_rng(seed)
    if box is None:
        box = (width * 0.22, height * 0.18, width * 0.78, height * 0.82)
    alpha = shape_alpha(size, box, shape)

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    stripes = texture * np.sin((xs + 0.5 * ys) / 3.0)
    product = np.asarray(colour, np.float32) + stripes[..., None]
    back = np.broadcast_to(np.asarray(backdrop, np.float32), (height, width, 3))
    photo = alpha[..., None] * product + (1 - alpha[..., None]) * back
    photo = photo + rng.normal(0, noise, photo.shape)
    image = Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8), mode="RGB")
    return Scene(image=image, truth=alpha)


def busy_backdrop(size: tuple[int, int], seed: int = 1) -> np.ndarray:
    """A cluttered background: blocks of random colour, like a shelf or a room."""
    width, height = size
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3))
    return blocks.repeat(16, axis=0).repeat(16, axis=1)[:height, :width].astype(np.float32)


def gradient_backdrop(size: tuple[int, int], start: int = 222, end: int = 250) -> np.ndarray:
    """A studio sweep with light falling off from right to left."""
    width, height = size
    ramp = np.linspace(start, end, width, dtype=np.float32)
    return np.broadcast_to(ramp[None, :, None], (height, width, 3)).copy()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))
