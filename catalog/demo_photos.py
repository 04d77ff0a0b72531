"""Studio product photos for the demo catalog, made in code.

Each photo is a product (a mug, a bottle, a book…) drawn as a few parts — body,
cap, label, sole — each with its own finish: a base colour carrying the texture
of a crop of one of scikit-image's bundled photographs (glaze, fabric, print,
paper), lit like a cylinder or a flat face. The product stands on a paper sweep
(white or light grey, darker towards the top and the corners) with a soft
contact shadow, and the sensor adds a little noise. A shot may carry one defect
a person sees at once: the product cut off by the frame, or out of focus.

Everything follows from the shot and its seed, so the same shot always gives
the same pixels (and the same JPEG bytes with the same Pillow). A 1600 × 1600 px
photo takes a few tenths of a second. Pure numpy/Pillow/scipy; no Django.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

# px, square: at or above every seeded marketplace minimum (Walmart asks 1500 × 1500).
SIZE = 1600
DEFECTS = ("", "cut_off", "blurry")

# Parts are drawn this many times larger and averaged down: anti-aliased edges.
_SUPERSAMPLE = 3


@dataclass(frozen=True)
class Finish:
    """What a part's surface looks like: `colour` carrying `detail` (0–1) of the texture
    of `texture` (a photo bundled with scikit-image; grey photos take on the colour)."""

    colour: tuple[int, int, int]
    texture: str = "gravel.png"
    detail: float = 0.3
    grain: float = 1.0  # how many widths of the photo span the product: more is finer


@dataclass(frozen=True)
class Shot:
    """One product photo: a `shape` (see SHAPES) whose parts wear `finishes` (part name →
    Finish; a part without one wears "body"'s), on a sweep of grey level `backdrop`."""

    shape: str
    finishes: dict[str, Finish] = field(hash=False)
    seed: int
    backdrop: int = 244
    fill: float = 0.72  # the product's height (or width, if wider) as a share of the frame's side
    defect: str = ""  # one of DEFECTS

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}; choose from {', '.join(SHAPES)}")
        if self.defect not in DEFECTS:
            raise ValueError(f"unknown defect {self.defect!r}; choose from {', '.join(DEFECTS[1:])}")
        if "body" not in self.finishes:
            raise ValueError("a shot needs a 'body' finish")


# --- shapes -------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One surface of a product: drawn by `draw` in the product's box, lit as `light`
    ("round": a cylinder, "flat": a face turned to the light, "side"/"top": faces turned
    away from it / up to it) across the box's horizontal span `span`."""

    name: str
    draw: Callable[[_Pen], None]
    light: str = "flat"
    span: tuple[float, float] = (0.0, 1.0)


class _Pen:
    """Draws in a box's own coordinates, given as shares (0–1) of its width and height."""

    def __init__(self, draw: ImageDraw.ImageDraw, width: float, height: float) -> None:
        self.draw, self.w, self.h = draw, width, height

    def _box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * self.w, y0 * self.h, x1 * self.w, y1 * self.h]

    def rect(self, x0: float, y0: float, x1: float, y1: float, radius: float = 0.0, fill: int = 255) -> None:
        self.draw.rounded_rectangle(self._box(x0, y0, x1, y1), radius=radius * self.w, fill=fill)

    def ellipse(self, x0: float, y0: float, x1: float, y1: float, fill: int = 255) -> None:
        self.draw.ellipse(self._box(x0, y0, x1, y1), fill=fill)

    def polygon(self, points: list[tuple[float, float]], fill: int = 255) -> None:
        self.draw.polygon([(x * self.w, y * self.h) for x, y in points], fill=fill)


def _mug(pen: _Pen) -> None:
    pen.rect(0, 0, 0.76, 1, radius=0.06)


def _mug_handle(pen: _Pen) -> None:
    # The opening is a real hole: the backdrop shows through it.
    pen.ellipse(0.56, 0.18, 1, 0.76)
    pen.ellipse(0.67, 0.31, 0.89, 0.63, fill=0)


def _mug_rim(pen: _Pen) -> None:
    pen.rect(0, 0, 0.76, 0.05, radius=0.02)


def _bottle(pen: _Pen) -> None:
    pen.rect(0, 0.35, 1, 0.9)
    pen.rect(0, 0.5, 1, 1, radius=0.16)
    pen.ellipse(0, 0.2, 1, 0.5)
    pen.rect(0.3, 0.09, 0.7, 0.3)


def _bottle_cap(pen: _Pen) -> None:
    pen.rect(0.26, 0, 0.74, 0.12, radius=0.06)


def _bottle_label(pen: _Pen) -> None:
    pen.rect(0, 0.5, 1, 0.8)


def _box_front(pen: _Pen) -> None:
    pen.polygon([(0, 0.1), (0.72, 0.1), (0.72, 1), (0, 1)])


def _box_side(pen: _Pen) -> None:
    pen.polygon([(0.72, 0.1), (1, 0), (1, 0.9), (0.72, 1)])


def _box_top(pen: _Pen) -> None:
    pen.polygon([(0, 0.1), (0.28, 0), (1, 0), (0.72, 0.1)])


def _box_label(pen: _Pen) -> None:
    pen.rect(0.08, 0.3, 0.64, 0.78, radius=0.02)


def _shoe_upper(pen: _Pen) -> None:
    # A low-top in profile, heel on the left: collar dips behind the tongue, laces run
    # down to a rounded toe.
    pen.polygon(
        [(0.0, 0.86), (0.0, 0.3), (0.03, 0.12), (0.1, 0.1), (0.22, 0.24), (0.32, 0.22), (0.36, 0.04)]
        + [(0.42, 0.02), (0.5, 0.2), (0.7, 0.36), (0.86, 0.44), (0.96, 0.56), (1.0, 0.7), (1.0, 0.86)]
    )


def _shoe_sole(pen: _Pen) -> None:
    pen.polygon([(0.0, 0.78), (1.0, 0.78), (0.99, 0.92), (0.95, 1.0), (0.03, 1.0), (0.0, 0.94)])


def _shoe_collar(pen: _Pen) -> None:
    # The opening, seen from the side: the lining inside the heel.
    pen.polygon(
        [(0.05, 0.14), (0.1, 0.12), (0.21, 0.26), (0.33, 0.24), (0.35, 0.1), (0.37, 0.3), (0.12, 0.32)]
    )


def _shoe_laces(pen: _Pen) -> None:
    # Just inside the upper's top line, which they follow down to the toe.
    for x, y in ((0.46, 0.18), (0.53, 0.29), (0.6, 0.35), (0.67, 0.41), (0.74, 0.45)):
        pen.rect(x - 0.03, y - 0.018, x + 0.03, y + 0.018, radius=0.006)


def _shoe_stripe(pen: _Pen) -> None:
    pen.polygon([(0.2, 0.66), (0.5, 0.38), (0.58, 0.42), (0.32, 0.7)])


def _lamp_shade(pen: _Pen) -> None:
    pen.polygon([(0.2, 0), (0.8, 0), (1, 0.4), (0, 0.4)])


def _lamp_stem(pen: _Pen) -> None:
    pen.rect(0.455, 0.39, 0.545, 0.93)


def _lamp_base(pen: _Pen) -> None:
    pen.ellipse(0.16, 0.87, 0.84, 1.0)


def _book_cover(pen: _Pen) -> None:
    pen.rect(0.07, 0, 1, 1, radius=0.01)


def _book_spine(pen: _Pen) -> None:
    pen.rect(0, 0.005, 0.09, 0.995, radius=0.02)


def _book_plate(pen: _Pen) -> None:
    pen.rect(0.22, 0.74, 0.86, 0.83)


def _pouch(pen: _Pen) -> None:
    pen.polygon([(0.04, 0.1), (0.96, 0.1), (1.0, 0.96), (0.93, 1.0), (0.07, 1.0), (0.0, 0.96)])


def _pouch_seal(pen: _Pen) -> None:
    teeth = 14
    top = [(0.04 + 0.92 * i / teeth, 0.0 if i % 2 else 0.015) for i in range(teeth + 1)]
    pen.polygon([*top, (0.96, 0.11), (0.04, 0.11)])


def _pouch_label(pen: _Pen) -> None:
    pen.rect(0.16, 0.34, 0.84, 0.76, radius=0.03)


def _vase(pen: _Pen) -> None:
    pen.ellipse(0, 0.3, 1, 1)
    pen.polygon([(0.3, 0.06), (0.7, 0.06), (0.78, 0.42), (0.22, 0.42)])


def _vase_lip(pen: _Pen) -> None:
    pen.rect(0.24, 0, 0.76, 0.08, radius=0.04)


# shape: (width / height of its box, its parts back to front, the floor contact as a span)
SHAPES: dict[str, tuple[float, tuple[Part, ...], tuple[float, float]]] = {
    "mug": (
        1.15,
        (
            Part("body", _mug_handle, "flat"),
            Part("body", _mug, "round", (0, 0.76)),
            Part("rim", _mug_rim, "top", (0, 0.76)),
        ),
        (0.0, 0.76),
    ),
    "bottle": (
        0.34,
        (
            Part("body", _bottle, "round"),
            Part("label", _bottle_label, "round"),
            Part("cap", _bottle_cap, "round", (0.26, 0.74)),
        ),
        (0.0, 1.0),
    ),
    "box": (
        0.92,
        (
            Part("body", _box_front, "flat", (0, 0.72)),
            Part("side", _box_side, "side", (0.72, 1)),
            Part("top", _box_top, "top"),
            Part("label", _box_label, "flat", (0, 0.72)),
        ),
        (0.0, 1.0),
    ),
    "shoe": (
        2.5,
        (
            Part("body", _shoe_upper, "flat"),
            Part("collar", _shoe_collar, "side"),
            Part("stripe", _shoe_stripe, "flat"),
            Part("laces", _shoe_laces, "flat"),
            Part("sole", _shoe_sole, "flat"),
        ),
        (0.0, 1.0),
    ),
    "lamp": (
        0.62,
        (
            Part("stem", _lamp_stem, "round", (0.455, 0.545)),
            Part("base", _lamp_base, "round", (0.16, 0.84)),
            Part("body", _lamp_shade, "round"),
        ),
        (0.16, 0.84),
    ),
    "book": (
        0.7,
        (
            Part("body", _book_cover, "flat", (0.07, 1)),
            Part("spine", _book_spine, "side", (0, 0.09)),
            Part("plate", _book_plate, "flat", (0.2, 0.88)),
        ),
        (0.0, 1.0),
    ),
    "pouch": (
        0.66,
        (
            Part("body", _pouch, "round"),
            Part("seal", _pouch_seal, "flat"),
            Part("label", _pouch_label, "flat", (0.16, 0.84)),
        ),
        (0.04, 0.96),
    ),
    "vase": (
        0.72,
        (
            Part("body", _vase, "round"),
            Part("lip", _vase_lip, "top", (0.24, 0.76)),
        ),
        (0.2, 0.8),
    ),
}


# --- surfaces and light -------------------------------------------------------


def photo_dir() -> Path:
    """The photographs scikit-image ships inside its wheel (textures, never the product)."""
    import skimage.data

    return Path(skimage.data.__file__).parent


@cache
def _source(name: str) -> tuple[np.ndarray, bool]:
    """The photo `name` as uint8 RGB, and whether it is grey (a pattern, not a picture)."""
    with Image.open(photo_dir() / name) as image:
        pixels = np.asarray(image.convert("RGB"))
    return pixels, bool(np.abs(pixels[..., 0].astype(np.int16) - pixels[..., 1]).max() < 1)


def _mirrored(length: int, start: int, count: int) -> np.ndarray:
    """`count` indices from `start` into an axis of `length`, going on mirrored past its end."""
    index = (start + np.arange(count)) % (2 * length)
    return np.where(index < length, index, 2 * length - 1 - index)


def _texture(finish: Finish, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """`finish` over a `size` (w, h) area: a random crop of its photo, resized, its detail
    scaled by `finish.detail` around the finish's colour."""
    width, height = size
    source, grey = _source(finish.texture)
    sh, sw = source.shape[:2]
    crop_w = max(8, round(sw * finish.grain * rng.uniform(0.5, 0.7)))
    crop_h = max(8, round(crop_w * height / width))
    if finish.grain <= 1 and crop_h > sh:
        # A picture is never mirrored: a tall area takes a narrower slice of it.
        crop_h, crop_w = sh, max(8, round(sh * width / height))
    # A pattern finer than the photo holds goes on mirrored, like a repeat.
    rows = _mirrored(sh, int(rng.integers(0, abs(sh - crop_h) + 1)), crop_h)
    cols = _mirrored(sw, int(rng.integers(0, abs(sw - crop_w) + 1)), crop_w)
    patch = Image.fromarray(source[rows[:, None], cols[None, :]])
    pixels = np.asarray(patch.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
    colour = np.asarray(finish.colour, dtype=np.float32)
    if grey:
        pixels = pixels * (colour / max(float(pixels.mean()), 1.0))
    return colour + finish.detail * (pixels - pixels.mean(axis=(0, 1)))


def _light(part: Part, size: tuple[int, int], key: float) -> np.ndarray:
    """How much light falls on `part` over the box (H×W, around 1); `key` (-1…1) is where
    the key light sits, left to right."""
    width, height = size
    x0, x1 = part.span
    xs = (np.arange(width, dtype=np.float32) / max(width - 1, 1) - x0) / max(x1 - x0, 1e-3) * 2 - 1
    ys = np.linspace(-1, 1, height, dtype=np.float32)
    if part.light == "round":
        across = 0.74 + 0.28 * np.cos(np.clip(xs - key, -1.7, 1.7))
        # A soft highlight, kept well under white so the product never clips.
        across = across + 0.16 * np.exp(-(((xs - key * 0.7 + 0.2) / 0.1) ** 2))
        return np.broadcast_to(across[None, :], (height, width))
    level = {"flat": 0.96, "side": 0.72, "top": 1.1}[part.light]
    return level + 0.06 * (-(xs[None, :] - key) * 0.5 - ys[:, None] * 0.5)


def _coverage(part: Part, size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased coverage (H×W, 0–1) of `part` in a box of `size` (w, h)."""
    width, height = size
    big = Image.new("L", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), 0)
    part.draw(_Pen(ImageDraw.Draw(big), big.width, big.height))
    return np.asarray(big.resize(size, Image.Resampling.BOX), dtype=np.float32) / 255.0


def _product(shot: Shot, size: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The lit product in its box of `size`: premultiplied colour (H×W×3) and alpha (H×W)."""
    _aspect, parts, _floor = SHAPES[shot.shape]
    width, height = size
    key = float(rng.uniform(-0.5, 0.1))
    colour = np.zeros((height, width, 3), dtype=np.float32)
    alpha = np.zeros((height, width), dtype=np.float32)
    textures: dict[str, np.ndarray] = {}
    for part in parts:
        finish_name = part.name if part.name in shot.finishes else "body"
        if finish_name not in textures:
            textures[finish_name] = _texture(shot.finishes[finish_name], size, rng)
        cover = _coverage(part, size)
        lit = textures[finish_name] * _light(part, size, key)[..., None]
        colour = cover[..., None] * lit + (1 - cover[..., None]) * colour
        alpha = cover + (1 - cover) * alpha
    return colour, alpha


def _backdrop(shot: Shot, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A paper sweep (H×W×3): light falls off towards the top and into the corners."""
    width, height = size
    xs = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    sweep = 1.0 - float(rng.uniform(0.03, 0.05)) * (1 - ys) / 2
    centre = float(rng.uniform(-0.2, 0.2))
    vignette = 1.0 - float(rng.uniform(0.04, 0.07)) * ((xs - centre) ** 2 + ys**2) / 2
    tint = np.asarray([shot.backdrop, shot.backdrop, shot.backdrop], dtype=np.float32)
    tint = tint + rng.uniform(-1.5, 1.5, 3).astype(np.float32)
    return tint[None, None, :] * (sweep * vignette)[..., None]


def _contact_shadow(
    size: tuple[int, int],
    box: tuple[int, int, int, int],
    floor: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Darkening (H×W multiplier ≤ 1) of a soft shadow under the part standing on the floor.

    Drawn and blurred at a quarter of the size: it is soft anyway, and a full-size blur
    of this radius would cost most of the photo's time.
    """
    width, height = size
    x0, _y0, x1, y1 = box
    w = x1 - x0
    left, right = x0 + floor[0] * w, x0 + floor[1] * w
    spread = (right - left) * float(rng.uniform(0.05, 0.07))
    step = 4
    small = Image.new("L", (-(-width // step), -(-height // step)), 0)
    ImageDraw.Draw(small).ellipse(
        [(left - spread) / step, (y1 - spread) / step, (right + 2 * spread) / step, (y1 + spread) / step],
        fill=255,
    )
    soft = ndimage.gaussian_filter(np.asarray(small, dtype=np.float32) / 255.0, sigma=max(1.0, spread / step))
    soft = np.asarray(Image.fromarray(soft).resize(size, Image.Resampling.BILINEAR))
    return 1.0 - float(rng.uniform(0.18, 0.26)) * soft


def _product_box(shot: Shot, size: tuple[int, int], rng: np.random.Generator) -> tuple[int, int, int, int]:
    """Where the product stands: near the centre, or for a cut_off shot a quarter past the
    right edge of the frame."""
    width, height = size
    aspect = SHAPES[shot.shape][0]
    h = shot.fill * height
    w = h * aspect
    if w > shot.fill * width:
        w = shot.fill * width
        h = w / aspect
    cx = width / 2 + float(rng.uniform(-0.02, 0.02)) * width
    cy = height / 2 + float(rng.uniform(0.0, 0.04)) * height
    if shot.defect == "cut_off":
        cx = width - 0.25 * w
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    return x0, y0, x0 + round(w), y0 + round(h)


@dataclass(frozen=True)
class Photo:
    image: Image.Image  # "RGB"
    mask: Image.Image  # "L", same size: 255 where the product is, 0 where the backdrop is

    def jpeg(self) -> bytes:
        """The photo as a camera would save it (JPEG, quality 92)."""
        buffer = io.BytesIO()
        self.image.save(buffer, format="JPEG", quality=92)
        return buffer.getvalue()


def shoot(shot: Shot, side: int = SIZE) -> Photo:
    """The photo of `shot`, `side` × `side` px, with the product's mask; the same shot and
    side always give the same pixels."""
    rng = np.random.default_rng(shot.seed)
    size = (side, side)
    width, height = size
    box = _product_box(shot, size, rng)
    x0, y0, x1, y1 = box
    colour, alpha = _product(shot, (x1 - x0, y1 - y0), rng)

    photo = _backdrop(shot, size, rng) * _contact_shadow(size, box, SHAPES[shot.shape][2], rng)[..., None]
    # Paste the part of the product's box that lies inside the frame.
    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    inside = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
    a = alpha[inside][..., None]
    photo[fy0:fy1, fx0:fx1] = colour[inside] + (1 - a) * photo[fy0:fy1, fx0:fx1]
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[fy0:fy1, fx0:fx1] = np.where(alpha[inside] >= 0.5, 255, 0)

    if shot.defect == "blurry":
        # Out of focus is optical: it happens before the sensor adds its noise.
        image = Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8))
        image = image.filter(ImageFilter.GaussianBlur(radius=side / 130))
        photo = np.asarray(image, dtype=np.float32)
    photo = photo + rng.standard_normal(photo.shape, dtype=np.float32) * float(rng.uniform(0.9, 1.3))
    image = Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8))
    return Photo(image=image, mask=Image.fromarray(mask))


def jpeg_bytes(shot: Shot, side: int = SIZE) -> bytes:
    return shoot(shot, side).jpeg()
