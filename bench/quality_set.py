"""A labelled evaluation set for the quality gate: product photos with known masks.

Each photo is a product silhouette (bottle, box, mug, shoe, lamp) filled with a
crop of a real photograph from scikit-image's bundled data, so the model sees
natural texture, shaded like a lit object and set on a studio backdrop with a
sweep, vignetting, a soft contact shadow and sensor noise. The silhouette is the
ground truth. Besides the clean studio kinds there are hard ones: a white
product on white, a busy backdrop (another photo), and the defects the gate
exists for (cut off by the frame, tiny, out of focus, over-exposed, too small).

The studio kinds (STUDIO_KINDS) are shot the way the calibration studio shoots
(shared/calibration/README.md): white, light-grey or warm sweeps with stronger
gradients and vignetting, contact shadows and long cast shadows (a soft, offset,
sheared copy of the silhouette darkening the backdrop multiplicatively), camera
JPEG quality, and the materials a backdrop model finds hardest: white on white,
glass (the backdrop shows through a tinted, partly transparent body) and metal
(grey with strong highlights). All of them are clean: a good cut-out of one
deserves to publish. Shadows are never part of the mask.

    .venv/bin/python bench/quality_set.py OUT_DIR [--count N] [--size PX] [--seed S]

writes OUT_DIR/images/<stem>.jpg|png, OUT_DIR/masks/<stem>.png (foreground 255,
background 0) and OUT_DIR/labels.json: {stem: {"kind", "shape", "defects",
"product", "backdrop", "shadow"}}, where "defects" lists the quality reason codes
the photo itself deserves (empty for a good photo, whatever the model makes of
it), "product" names the product shown (every photo here shows its own) and
"backdrop"/"shadow" describe the set, in the calibration set's words where they
apply ("white-sweep", "light-grey", "warm"; "contact", "contact+cast").

Pure numpy/Pillow/scipy, no Django: the tests import `make_photo` too. The kinds
that were here before the studio kinds make the same pixels for the same seed as
they always did (tests pin some of them), except a clean shot whose product would
be blown out or crushed to black: it is re-exposed (`_tone`), since its label says
it deserves no exposure reason.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

SHAPES = ("bottle", "box", "mug", "shoe", "lamp")

# kind: (share of the set, the quality reason codes the photo deserves)
KINDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "studio_white": (0.10, ()),
    "studio_grey": (0.08, ()),
    "studio_colour": (0.06, ()),
    "studio_warm": (0.08, ()),
    "cast_shadow": (0.10, ()),
    "white_on_white": (0.06, ()),
    "glass": (0.06, ()),
    "metal": (0.08, ()),
    "low_contrast": (0.04, ()),
    "busy_backdrop": (0.05, ()),
    "cut_off": (0.06, ("cut_off",)),
    "tiny": (0.05, ("tiny_product",)),
    "blurred": (0.06, ("blurry",)),
    "overexposed": (0.05, ("exposure",)),
    "low_resolution": (0.07, ("low_resolution",)),
}
CLEAN_KINDS = ("studio_white", "studio_grey", "studio_colour")
# Shot like the calibration studio's photos (see the module docstring); all clean.
STUDIO_KINDS = ("studio_warm", "cast_shadow", "white_on_white", "glass", "metal")
# How often each studio kind also has a cast shadow (the contact shadow is always there).
_CAST_SHARE = {"studio_warm": 0.6, "cast_shadow": 1.0, "white_on_white": 0.6, "glass": 0.5, "metal": 0.5}
# Backdrops of the kinds from before the studio kinds, in the calibration set's words.
_LEGACY_BACKDROPS = {"studio_white": "white-sweep", "studio_grey": "light-grey", "studio_colour": "colour"}

# Width / height of each silhouette's bounding box.
_ASPECT = {"bottle": 0.36, "box": 0.8, "mug": 1.15, "shoe": 2.1, "lamp": 0.62}
# Left and right of the part standing on the floor, as shares of the box's width.
_FOOTPRINT = {"mug": (0.0, 0.76), "lamp": (0.18, 0.82)}
# Round objects are lit like cylinders, the rest like a flat face turned to the light.
_CYLINDERS = {"bottle", "mug", "lamp"}

_SUPERSAMPLE = 4
# Photos whose crops make product surfaces (labels, fabric, wood, metal, print).
_TEXTURES = (
    "coffee.png",
    "astronaut.png",
    "chelsea.png",
    "motorcycle_left.png",
    "rocket.jpg",
    "ihc.png",
    "retina.jpg",
    "brick.png",
    "grass.png",
    "gravel.png",
    "camera.png",
)
# Photos of scenes, for the busy backdrops.
_SCENES = ("coffee.png", "motorcycle_left.png", "rocket.jpg", "astronaut.png", "chelsea.png", "brick.png")


@dataclass(frozen=True)
class Photo:
    image: Image.Image  # "RGB"
    mask: Image.Image  # "L", 255 where the product is, 0 elsewhere, same size
    kind: str
    shape: str
    defects: tuple[str, ...]
    format: str  # "JPEG" or "PNG"
    backdrop: str = ""  # "white-sweep", "light-grey", "warm", "colour" or "scene"
    shadow: str = ""  # "contact", "contact+cast" or "none"
    jpeg_quality: int = 90

    def encode(self) -> bytes:
        buffer = io.BytesIO()
        if self.format == "JPEG":
            self.image.save(buffer, format="JPEG", quality=self.jpeg_quality)
        else:
            self.image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    @property
    def suffix(self) -> str:
        return ".jpg" if self.format == "JPEG" else ".png"

    def truth(self) -> np.ndarray:
        return np.asarray(self.mask) >= 128


def photo_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


@cache
def _load(name: str) -> np.ndarray:
    with Image.open(photo_dir() / name) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def _is_grey(pixels: np.ndarray) -> bool:
    return bool(np.abs(pixels[..., 0] - pixels[..., 1]).max() < 1)


# --- silhouettes --------------------------------------------------------------


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple[float, float, float, float]) -> None:
    """Draw `shape` filling `box` (x0, y0, x1, y1) in white, its openings in black."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0

    def at(fx0: float, fy0: float, fx1: float, fy1: float) -> list[float]:
        return [x0 + fx0 * w, y0 + fy0 * h, x0 + fx1 * w, y0 + fy1 * h]

    def poly(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x0 + fx * w, y0 + fy * h) for fx, fy in points]

    if shape == "bottle":
        draw.rounded_rectangle(at(0, 0.36, 1, 1), radius=0.14 * w, fill=255)
        draw.ellipse(at(0, 0.2, 1, 0.52), fill=255)
        draw.rectangle(at(0.34, 0.08, 0.66, 0.32), fill=255)
        draw.rounded_rectangle(at(0.3, 0, 0.7, 0.11), radius=0.04 * w, fill=255)
    elif shape == "box":
        draw.rounded_rectangle(at(0, 0, 1, 1), radius=0.05 * min(w, h), fill=255)
    elif shape == "mug":
        # The handle's opening is a real hole in the mask.
        draw.ellipse(at(0.56, 0.16, 1, 0.76), fill=255)
        draw.ellipse(at(0.66, 0.3, 0.9, 0.62), fill=0)
        draw.rounded_rectangle(at(0, 0, 0.76, 1), radius=0.07 * w, fill=255)
    elif shape == "shoe":
        draw.polygon(
            poly(
                [(0.02, 0.05), (0.22, 0.0), (0.34, 0.22), (0.52, 0.3), (0.74, 0.42), (0.9, 0.52)]
                + [(0.99, 0.68), (1.0, 0.86), (0.94, 1.0), (0.04, 1.0), (0.0, 0.8)]
            ),
            fill=255,
        )
        draw.ellipse(at(0.62, 0.4, 1.0, 1.0), fill=255)
    elif shape == "lamp":
        draw.polygon(poly([(0.22, 0), (0.78, 0), (1, 0.38), (0, 0.38)]), fill=255)
        draw.rectangle(at(0.46, 0.36, 0.54, 0.92), fill=255)
        draw.ellipse(at(0.18, 0.86, 0.82, 1.0), fill=255)
    else:
        raise ValueError(f"unknown shape {shape!r}")


def silhouette(size: tuple[int, int], shape: str, box: tuple[float, float, float, float]) -> np.ndarray:
    """Anti-aliased coverage (0..1, H×W float32) of `shape` in `box`; the box may reach
    past the frame, and only what is inside the frame is drawn."""
    width, height = size
    big = Image.new("L", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), 0)
    _draw_shape(ImageDraw.Draw(big), shape, tuple(v * _SUPERSAMPLE for v in box))
    return np.asarray(big.resize(size, Image.Resampling.BOX), dtype=np.float32) / 255.0


# --- surfaces and light -------------------------------------------------------


def _texture(
    rng: np.random.Generator, size: tuple[int, int], *, pale: bool, avoid: str | None = None
) -> np.ndarray:
    """A crop of a real photo (not `avoid`) resized to `size`, mixed with a base colour:
    a product surface."""
    width, height = size
    names = [name for name in _TEXTURES if name != avoid]
    source = _load(names[rng.integers(len(names))])
    sh, sw = source.shape[:2]
    crop_w = int(sw * rng.uniform(0.35, 0.8))
    crop_h = int(min(sh, crop_w * height / max(width, 1)))
    crop_w = max(8, int(crop_h * width / max(height, 1)))
    left = rng.integers(0, max(1, sw - crop_w))
    top = rng.integers(0, max(1, sh - crop_h))
    patch = source[top : top + crop_h, left : left + crop_w]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    resized = Image.fromarray(np.clip(patch, 0, 255).astype(np.uint8)).resize(
        (max(1, width), max(1, height)), Image.Resampling.BILINEAR
    )
    pixels = np.asarray(resized, dtype=np.float32)
    # How much of the photo's detail survives: a white product shows little of it.
    if pale:
        base = rng.uniform(228, 242) + rng.uniform(-4, 4, 3)
        contrast = rng.uniform(0.3, 0.34)
    else:
        base = rng.uniform(20, 200, 3)
        contrast = rng.uniform(0.4, 0.89)
    if _is_grey(source):
        # A grey texture takes the base colour's hue, like printed or dyed material.
        pixels = pixels * (base / max(base.mean(), 1.0))
    # The texture's detail around the base colour.
    return base + contrast * (pixels - pixels.mean(axis=(0, 1)))


def _shading(shape: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Light falling on the product (H×W multiplier around 1) with a specular streak."""
    width, height = size
    xs = np.linspace(-1, 1, max(width, 1), dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, max(height, 1), dtype=np.float32)[:, None]
    light = rng.uniform(-0.5, 0.5)  # where the key light sits, left to right
    if shape in _CYLINDERS:
        shade = 0.72 + 0.3 * np.cos(np.clip(xs - light, -1.6, 1.6))
        streak = 0.25 * np.exp(-(((xs - light * 0.8 + 0.15) / 0.08) ** 2))
        shade = shade + streak * (0.5 + 0.5 * rng.random())
    else:
        shade = 0.9 + 0.12 * (-(xs - light) * 0.5 - ys * 0.5)
    return np.broadcast_to(shade, (max(height, 1), max(width, 1))).astype(np.float32)


def _studio_backdrop(size: tuple[int, int], colour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A paper sweep: light falls off towards the top and the corners."""
    width, height = size
    xs = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    sweep = 1.0 - rng.uniform(0.0, 0.05) * (1 - ys) / 2
    vignette = 1.0 - rng.uniform(0.02, 0.08) * ((xs - rng.uniform(-0.3, 0.3)) ** 2 + ys**2) / 2
    return colour[None, None, :] * (sweep * vignette)[..., None]


def _scene_backdrop(size: tuple[int, int], name: str, rng: np.random.Generator) -> np.ndarray:
    """The photo `name` filling the frame, like a lifestyle shot, often a little out of focus."""
    width, height = size
    source = _load(name)
    sh, sw = source.shape[:2]
    aspect = width / height
    crop_w = min(sw, int(sh * aspect))
    crop_h = int(crop_w / aspect)
    left = rng.integers(0, sw - crop_w + 1)
    top = rng.integers(0, sh - crop_h + 1)
    patch = Image.fromarray(source[top : top + crop_h, left : left + crop_w].astype(np.uint8))
    pixels = np.asarray(patch.resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    if rng.random() < 0.6:
        sigma = rng.uniform(1, 4) * width / 600
        pixels = ndimage.gaussian_filter(pixels, sigma=(sigma, sigma, 0))
    return pixels


def _contact_shadow(
    size: tuple[int, int], shape: str, box: tuple[float, float, float, float], rng: np.random.Generator
) -> np.ndarray:
    """Darkening (H×W multiplier ≤ 1) of a soft shadow under the part that stands on the floor."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    left, right = _FOOTPRINT.get(shape, (0.0, 1.0))
    canvas = Image.new("L", size, 0)
    spread = rng.uniform(0.04, 0.08) * h
    ImageDraw.Draw(canvas).ellipse(
        [
            x0 + (left - 0.04) * w,
            y1 - spread,
            x0 + (right + 0.04 + rng.uniform(0, 0.1)) * w,
            y1 + spread,
        ],
        fill=255,
    )
    soft = ndimage.gaussian_filter(np.asarray(canvas, dtype=np.float32) / 255.0, sigma=max(1.0, spread * 0.8))
    return 1.0 - rng.uniform(0.15, 0.3) * soft


# --- photos -------------------------------------------------------------------


def _frame_size(long_side: int, rng: np.random.Generator) -> tuple[int, int]:
    aspect = (1.0, 4 / 3, 3 / 4)[rng.integers(3)]
    if aspect >= 1:
        return long_side, round(long_side / aspect)
    return round(long_side * aspect), long_side


def _product_box(
    size: tuple[int, int], shape: str, fill: float, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """A box of the shape's aspect, `fill` of the frame's height (or width if wider), near the centre."""
    width, height = size
    aspect = _ASPECT[shape] * rng.uniform(0.9, 1.1)
    h = fill * height
    w = h * aspect
    if w > fill * width:
        w = fill * width
        h = w / aspect
    cx = width / 2 + rng.uniform(-0.06, 0.06) * width
    cy = height / 2 + rng.uniform(-0.04, 0.06) * height
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _cut_off(
    size: tuple[int, int], box: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Slide the box past one frame edge so 15–35% of the product is outside."""
    width, height = size
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    out = rng.uniform(0.15, 0.35)
    edge = ("left", "right", "top", "bottom")[rng.integers(4)]
    if edge == "left":
        return (-out * w, y0, (1 - out) * w, y1)
    if edge == "right":
        return (width - (1 - out) * w, y0, width + out * w, y1)
    if edge == "top":
        return (x0, -out * h, x1, (1 - out) * h)
    return (x0, height - (1 - out) * h, x1, height + out * h)


def _backdrop_colour(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "studio_grey":
        return np.full(3, rng.uniform(200, 228)) + rng.uniform(-2, 2, 3)
    if kind == "studio_colour":
        hue = rng.uniform(0, 1)
        tint = np.array([np.cos(2 * np.pi * (hue + k / 3)) for k in range(3)])
        return np.clip(rng.uniform(170, 215) + rng.uniform(25, 45) * tint, 0, 255)
    return np.full(3, rng.uniform(240, 250)) + rng.uniform(-2, 1, 3)


def make_photo(
    kind: str, long_side: int = 1200, *, seed: int | Sequence[int] = 0, shape: str | None = None
) -> Photo:
    """One photo of `kind` (a key of KINDS), `long_side` px on its longest side (for
    low_resolution half that, at most 700 px), of `shape` (or one the seed picks); the same
    arguments always give the same photo."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    rng = np.random.default_rng(seed)
    shape = shape or SHAPES[rng.integers(len(SHAPES))]
    if kind == "low_resolution":
        long_side = min(long_side // 2, 700)
    size = _frame_size(long_side, rng)
    width, height = size

    fill = rng.uniform(0.55, 0.8)
    if kind == "tiny":
        fill = rng.uniform(0.08, 0.11)
    box = _product_box(size, shape, fill, rng)
    if kind == "cut_off":
        box = _cut_off(size, box, rng)
    if kind in STUDIO_KINDS:
        # A branch of its own from here on, so the older kinds keep their random draws.
        return _studio_shot(kind, shape, size, box, rng)

    # Photographic defects are shot on a white or grey sweep, like most catalog photos.
    studio = kind if kind in ("studio_grey", "studio_colour") else "studio_white"
    if kind != "low_contrast" and kind not in CLEAN_KINDS and rng.random() < 0.4:
        studio = "studio_grey"
    scene = None
    if kind == "busy_backdrop":
        scene = _SCENES[rng.integers(len(_SCENES))]
        backdrop = _scene_backdrop(size, scene, rng)
    else:
        colour = _backdrop_colour(studio, rng)
        backdrop = _studio_backdrop(size, colour, rng) * _contact_shadow(size, shape, box, rng)[..., None]

    alpha = silhouette(size, shape, box)
    surface = _product_surface(
        size, shape, box, pale=kind == "low_contrast", backdrop=backdrop, avoid=scene, rng=rng
    )
    if not KINDS[kind][1] and _clip_share(surface, alpha >= 0.5) > _CLIP_TOLERANCE:
        # A clean shot is exposed so that the product keeps its detail.
        surface = _tone(surface)
    photo = alpha[..., None] * surface + (1 - alpha[..., None]) * backdrop

    if kind == "blurred":
        # Out of focus is optical: it happens before the sensor adds its noise.
        sigma = rng.uniform(4.0, 7.0) * long_side / 1200
        photo = ndimage.gaussian_filter(photo, sigma=(sigma, sigma, 0))
    if kind == "overexposed":
        photo = photo * rng.uniform(1.8, 2.4) + 30
    photo = photo * (1 + rng.uniform(-0.03, 0.03, 3))  # white balance
    photo = photo + rng.normal(0, rng.uniform(1.0, 2.5), photo.shape)
    image = Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8), mode="RGB")
    mask = Image.fromarray(np.where(alpha >= 0.5, 255, 0).astype(np.uint8), mode="L")
    fmt = "PNG" if rng.random() < 0.2 else "JPEG"
    return Photo(
        image=image,
        mask=mask,
        kind=kind,
        shape=shape,
        defects=KINDS[kind][1],
        format=fmt,
        backdrop="scene" if scene else _LEGACY_BACKDROPS.get(studio, "white-sweep"),
        shadow="none" if scene else "contact",
    )


# A product is exposed the way a photographer exposes it: tones past the knee are
# compressed towards the ceiling and tones under the toe towards the floor, so that after
# white balance (±3%) and sensor noise nothing is clipped. Without it a pale or shiny
# product under the streak of `_shading` blows out and a dark texture crushes to black,
# and a clean shot would deserve the exposure reason (the gate flags a product with more
# than 5% of it clipped).
_KNEE, _CEILING = 232.0, 242.0
_TOE, _FLOOR = 24.0, 8.0
# Share of a clean kind's product that may reach the clip levels before it is re-exposed.
# Kept above every photo the tests pin (at most 2%), so their pixels never change.
_CLIP_TOLERANCE = 0.025


def _tone(surface: np.ndarray) -> np.ndarray:
    """`surface` with its highlights and shadows rolled off; the tones between the toe
    and the knee are left as they are."""
    high, low = _CEILING - _KNEE, _TOE - _FLOOR
    surface = np.where(
        surface > _KNEE, _KNEE + high * (1 - np.exp(-np.maximum(surface - _KNEE, 0) / high)), surface
    )
    return np.where(surface < _TOE, _TOE - low * (1 - np.exp(-np.maximum(_TOE - surface, 0) / low)), surface)


def _clip_share(surface: np.ndarray, inside: np.ndarray) -> float:
    """Share of the product at the clip levels: crushed (luma 4 or less) or blown (two
    channels at 240 or more), before white balance and noise."""
    pixels = surface[inside]
    if not pixels.size:
        return 0.0
    luma = pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float(((luma <= 4) | ((pixels >= 240).sum(axis=1) >= 2)).mean())


def _product_surface(
    size: tuple[int, int],
    shape: str,
    box: tuple[float, float, float, float],
    *,
    pale: bool,
    backdrop: np.ndarray,
    avoid: str | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """The lit product over the whole frame (only its box is meaningful); its texture is
    not taken from the photo `avoid` (the backdrop's), or it would look transparent."""
    width, height = size
    x0, y0, x1, y1 = (round(v) for v in box)
    bw, bh = max(1, x1 - x0), max(1, y1 - y0)
    surface = _texture(rng, (bw, bh), pale=pale, avoid=avoid)
    if not pale:
        # A product the colour of its backdrop belongs to the low_contrast kind.
        behind = backdrop[height // 2, width // 2]
        for _ in range(8):
            if np.abs(surface.mean(axis=(0, 1)) - behind).max() >= 45:
                break
            surface = _texture(rng, (bw, bh), pale=False, avoid=avoid)
    surface = surface * _shading(shape, (bw, bh), rng)[..., None]
    return _paste(np.zeros((height, width, 3), dtype=np.float32), surface, (x0, y0))


def _paste(full: np.ndarray, patch: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """`patch` written into `full` with its top left corner at `at` (x, y); only the part
    inside the frame is written."""
    height, width = full.shape[:2]
    x0, y0 = at
    ph, pw = patch.shape[:2]
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(width, x0 + pw), min(height, y0 + ph)
    if fx1 > fx0 and fy1 > fy0:
        full[fy0:fy1, fx0:fx1] = patch[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    return full


# --- studio kinds -------------------------------------------------------------

# Studio backdrop colours, in the calibration set's words.
_STUDIO_BACKDROPS = ("white-sweep", "light-grey", "warm")
_STUDIO_BACKDROP_SHARES = (0.5, 0.3, 0.2)
# Glass tints as the share of each channel's light the body lets through, and how
# often each is drawn: most glass is clear or lightly tinted.
_GLASS_TINTS = (
    (0.95, 0.97, 0.98),  # clear
    (0.62, 0.82, 0.66),  # green
    (0.86, 0.66, 0.4),  # amber
    (0.66, 0.77, 0.94),  # blue
    (0.64, 0.64, 0.68),  # smoked
)
_GLASS_TINT_SHARES = (0.4, 0.15, 0.15, 0.15, 0.15)


def _studio_colour(backdrop: str, rng: np.random.Generator) -> np.ndarray:
    if backdrop == "light-grey":
        return np.full(3, rng.uniform(205, 230)) + np.array([-1.0, 0.0, 2.0]) * rng.uniform(0, 2)
    if backdrop == "warm":
        red = rng.uniform(234, 248)
        return np.array([red, red - rng.uniform(3, 9), red - rng.uniform(12, 28)])
    return np.full(3, rng.uniform(238, 252)) + rng.uniform(-2, 1, 3)


def _lit_sweep(size: tuple[int, int], colour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A paper sweep under studio lights: darker towards the top, a key light falling off
    to one side, and the lens's vignetting around an off-centre point."""
    width, height = size
    xs = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    sweep = 1.0 - rng.uniform(0.03, 0.14) * (1 - ys) / 2
    side = 1.0 + rng.uniform(-0.05, 0.05) * xs
    cx, cy = rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.3)
    vignette = 1.0 - rng.uniform(0.04, 0.16) * ((xs - cx) ** 2 + (ys - cy) ** 2) / 2
    return colour[None, None, :] * (sweep * side * vignette)[..., None]


def _blur(values: np.ndarray, radius: float) -> np.ndarray:
    """A Gaussian blur of a 0..1 map, through Pillow: fast at the radii shadows need."""
    image = Image.fromarray(np.clip(values * 255, 0, 255).astype(np.uint8), mode="L")
    return np.asarray(image.filter(ImageFilter.GaussianBlur(max(radius, 0.5))), dtype=np.float32) / 255.0


def _cast_shadow(
    alpha: np.ndarray, box: tuple[float, float, float, float], rng: np.random.Generator
) -> np.ndarray:
    """Darkening (H×W multiplier ≤ 1) of a long cast shadow: the silhouette projected onto
    the floor from its base line (squashed by the floor's angle, sheared by a light to one
    side, behind the product or, lit from behind, in front of it), softer and fainter the
    further it reaches from the base."""
    height, width = alpha.shape
    x0, _, x1, y1 = box
    w, h = x1 - x0, box[3] - box[1]
    squash = rng.uniform(0.35, 0.8) if rng.random() < 0.7 else -rng.uniform(0.2, 0.45)
    shear = rng.uniform(0.4, 1.3) * (1 if rng.random() < 0.5 else -1)
    shift = rng.uniform(0.02, 0.1) * w * np.sign(shear)
    # Output (x, y) samples the silhouette at (x + shear*y/squash + c, y/squash + f): the
    # inverse of y' = y1 - squash*(y1 - y), x' = x + shear*(y1 - y) + shift.
    coefficients = (
        1.0,
        shear / squash,
        -shear * y1 / squash - shift,
        0.0,
        1.0 / squash,
        y1 * (1 - 1 / squash),
    )
    silhouette_image = Image.fromarray(np.clip(alpha * 255, 0, 255).astype(np.uint8), mode="L")
    projected = silhouette_image.transform(
        (width, height), Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR
    )
    cast = np.asarray(projected, dtype=np.float32) / 255.0
    near = _blur(cast, rng.uniform(0.01, 0.02) * h)
    far = _blur(cast, rng.uniform(0.04, 0.08) * h)
    ys = np.arange(height, dtype=np.float32)[:, None]
    reach = np.clip(np.abs(y1 - ys) / max(abs(squash) * h, 1.0), 0.0, 1.0)
    soft = (1 - reach) * near + reach * far
    return 1.0 - rng.uniform(0.18, 0.4) * (1 - 0.5 * reach) * soft


def _frame_grid(size: tuple[int, int], box: tuple[float, float, float, float]) -> tuple[np.ndarray, ...]:
    """Every pixel's position across the product's box (0..1 inside it), as H×W arrays."""
    width, height = size
    x0, y0, x1, y1 = box
    fx = (np.arange(width, dtype=np.float32)[None, :] - x0) / max(x1 - x0, 1.0)
    fy = (np.arange(height, dtype=np.float32)[:, None] - y0) / max(y1 - y0, 1.0)
    return np.broadcast_to(fx, (height, width)), np.broadcast_to(fy, (height, width))


def _streaks(
    across: np.ndarray, rng: np.random.Generator, count: int, width: tuple[float, float]
) -> np.ndarray:
    """`count` narrow specular highlights (0..1) at random places `across` the product."""
    out = np.zeros_like(across)
    for _ in range(count):
        centre = rng.uniform(0.12, 0.88)
        out = np.maximum(out, np.exp(-(((across - centre) / rng.uniform(*width)) ** 2)))
    return out


def _white_surface(
    size: tuple[int, int], shape: str, box: tuple[float, float, float, float], rng: np.random.Generator
) -> np.ndarray:
    """A white product (paper, porcelain, white plastic), exposed as a studio exposes white:
    bright but not blown, told from the backdrop by its shading and faint texture."""
    width, height = size
    x0, y0, x1, y1 = (round(v) for v in box)
    bw, bh = max(1, x1 - x0), max(1, y1 - y0)
    texture = _texture(rng, (bw, bh), pale=True)
    white = rng.uniform(230, 241)
    surface = white + rng.uniform(0.3, 0.6) * (texture - texture.mean(axis=(0, 1)))
    shade = _shading(shape, (bw, bh), rng)
    surface = surface * (1 + 0.45 * (shade - shade.mean()))[..., None]
    return _paste(np.zeros((height, width, 3), dtype=np.float32), surface, (x0, y0))


def _glass_surface(
    size: tuple[int, int],
    shape: str,
    box: tuple[float, float, float, float],
    alpha: np.ndarray,
    backdrop: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A see-through body: the backdrop behind it (shadows included), displaced and softened
    by refraction, tinted, darker along its thick walls, with sharp reflections; a bottle
    has an opaque cap and, half the time, a glass item carries an opaque label."""
    width, height = size
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    tint = np.array(_GLASS_TINTS[rng.choice(len(_GLASS_TINTS), p=_GLASS_TINT_SHARES)], dtype=np.float32)
    transmission = rng.uniform(0.7, 0.95)
    # A round body is a lens: it shows the backdrop behind it mirrored and squeezed
    # (shadows and the sweep's gradient included); a flat one only shifts it.
    columns = np.arange(width, dtype=np.float32)
    centre = (x0 + x1) / 2
    if shape in _CYLINDERS:
        columns = centre - (columns - centre) * rng.uniform(0.4, 0.8)
    columns = np.clip(np.round(columns + rng.uniform(-0.04, 0.04) * w), 0, width - 1).astype(int)
    behind = backdrop[:, columns]
    sigma = rng.uniform(0.004, 0.012) * h
    behind = ndimage.gaussian_filter(behind, sigma=(sigma, sigma, 0))
    body = behind * tint * transmission
    # Thick walls along the outline: darker (light bent away), with a bright inner line.
    inside = ndimage.distance_transform_edt(alpha >= 0.5)
    wall = max(rng.uniform(0.02, 0.05) * min(w, h), 1.0)
    body = body * (1 - rng.uniform(0.3, 0.55) * np.exp(-inside / wall))[..., None]
    body = body + rng.uniform(20, 50) * np.exp(-(((inside - 1.5 * wall) / (0.4 * wall)) ** 2))[..., None]
    fx, fy = _frame_grid(size, box)
    across = fx if shape in _CYLINDERS else (fx + fy) / 2
    shine = _streaks(across, rng, int(rng.integers(1, 3)), (0.015, 0.04))
    body = body + rng.uniform(90, 160) * shine[..., None]

    opaque = np.zeros((height, width), dtype=bool)
    if shape == "bottle":
        opaque |= fy < 0.11
    if rng.random() < 0.5:
        top = rng.uniform(0.45, 0.55)
        opaque |= (fy > top) & (fy < top + rng.uniform(0.2, 0.3))
    if opaque.any():
        bx0, by0 = round(x0), round(y0)
        label = _texture(rng, (max(1, round(w)), max(1, round(h))), pale=False)
        label = label * _shading(shape, (max(1, round(w)), max(1, round(h))), rng)[..., None]
        printed = _paste(np.zeros_like(body), label, (bx0, by0))
        body = np.where(opaque[..., None], printed, body)
    return body


def _metal_surface(
    size: tuple[int, int], shape: str, box: tuple[float, float, float, float], rng: np.random.Generator
) -> np.ndarray:
    """Brushed or polished metal: grey, mirroring the studio as dark and light bands, with
    narrow, strong highlights that come close to white without blowing out."""
    width, height = size
    x0, y0, x1, y1 = box
    fx, fy = _frame_grid(size, box)
    grey = rng.uniform(105, 175)
    if shape in _CYLINDERS:
        across = fx
        # The studio's dark surroundings reflect along a cylinder's sides.
        light = 1.0 - 0.45 * np.abs(2 * fx - 1) ** 3
    else:
        across = (fx + fy) / 2
        light = 0.85 + 0.25 * (1 - across)
    bands = np.zeros_like(fx)
    for _ in range(int(rng.integers(2, 5))):
        centre, spread = rng.uniform(0.05, 0.95), rng.uniform(0.04, 0.15)
        bands = bands + rng.uniform(-0.35, 0.3) * np.exp(-(((across - centre) / spread) ** 2))
    value = grey * np.clip(light + bands, 0.25, 1.6)
    shine = _streaks(across, rng, int(rng.integers(1, 3)), (0.01, 0.025))
    value = value + (rng.uniform(238, 250) - value) * shine
    # Brushing: noise drawn out along one direction.
    sigma = (0.6, 0.04 * (x1 - x0)) if rng.random() < 0.5 else (0.04 * (y1 - y0), 0.6)
    brushed = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)).astype(np.float32), sigma=sigma)
    value = value + rng.uniform(4, 10) * brushed / max(float(brushed.std()), 1e-6)
    tint = rng.uniform(-5, 5) * np.array([1.0, 0.2, -1.0])  # warm or cool metal
    return value[..., None] + tint


def _studio_shot(
    kind: str,
    shape: str,
    size: tuple[int, int],
    box: tuple[float, float, float, float],
    rng: np.random.Generator,
) -> Photo:
    """A clean photo of `kind` (one of STUDIO_KINDS) shot the calibration studio's way."""
    if kind == "studio_warm":
        backdrop_name = "warm"
    elif kind == "white_on_white":
        backdrop_name = "white-sweep"
    elif kind == "cast_shadow":
        backdrop_name = ("white-sweep", "light-grey")[rng.integers(2)]
    else:
        backdrop_name = str(rng.choice(_STUDIO_BACKDROPS, p=_STUDIO_BACKDROP_SHARES))
    cast = rng.random() < _CAST_SHARE[kind]

    alpha = silhouette(size, shape, box)
    backdrop = _lit_sweep(size, _studio_colour(backdrop_name, rng), rng)
    if cast:
        backdrop = backdrop * _cast_shadow(alpha, box, rng)[..., None]
    backdrop = backdrop * _contact_shadow(size, shape, box, rng)[..., None]

    if kind == "glass":
        surface = _glass_surface(size, shape, box, alpha, backdrop, rng)
    elif kind == "metal":
        surface = _metal_surface(size, shape, box, rng)
    elif kind == "white_on_white":
        surface = _white_surface(size, shape, box, rng)
    else:
        surface = _product_surface(size, shape, box, pale=False, backdrop=backdrop, avoid=None, rng=rng)
    photo = alpha[..., None] * _tone(surface) + (1 - alpha[..., None]) * backdrop
    photo = photo * (1 + rng.uniform(-0.03, 0.03, 3))  # white balance
    photo = photo + rng.normal(0, rng.uniform(1.0, 3.0), photo.shape)
    image = Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8), mode="RGB")
    mask = Image.fromarray(np.where(alpha >= 0.5, 255, 0).astype(np.uint8), mode="L")
    return Photo(
        image=image,
        mask=mask,
        kind=kind,
        shape=shape,
        defects=KINDS[kind][1],
        format="JPEG",
        backdrop=backdrop_name,
        shadow="contact+cast" if cast else "contact",
        jpeg_quality=int(rng.integers(78, 96)),
    )


def plan(count: int, seed: int) -> list[str]:
    """The kind of each of `count` photos, in proportion to KINDS, shuffled by `seed`."""
    shares = np.array([share for share, _ in KINDS.values()])
    counts = np.floor(shares / shares.sum() * count).astype(int)
    # Hand out what rounding left over to the largest remainders.
    remainders = shares / shares.sum() * count - counts
    for index in np.argsort(-remainders)[: count - counts.sum()]:
        counts[index] += 1
    kinds = [kind for kind, n in zip(KINDS, counts, strict=True) for _ in range(n)]
    np.random.default_rng(seed).shuffle(kinds)
    return kinds


def generate(out_dir: Path, count: int = 120, long_side: int = 1200, seed: int = 0) -> dict[str, dict]:
    """Write `count` photos, their masks and labels.json under `out_dir`; return the labels."""
    images, masks = out_dir / "images", out_dir / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(exist_ok=True)
    labels: dict[str, dict] = {}
    for index, kind in enumerate(plan(count, seed)):
        photo = make_photo(kind, long_side, seed=[seed, index])
        stem = f"{index:04d}-{kind}-{photo.shape}"
        (images / f"{stem}{photo.suffix}").write_bytes(photo.encode())
        photo.mask.save(masks / f"{stem}.png", format="PNG")
        labels[stem] = {
            "kind": kind,
            "shape": photo.shape,
            "defects": list(photo.defects),
            # Every photo here shows a product of its own; a set with several shots of
            # one product names it in all of them, so cross-validation keeps them together.
            "product": stem,
            "backdrop": photo.backdrop,
            "shadow": photo.shadow,
        }
    (out_dir / "labels.json").write_text(json.dumps(labels, indent=2, sort_keys=True) + "\n")
    return labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--size", type=int, default=1200, help="long side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.count < 1 or args.size < 64:
        parser.error("--count must be at least 1 and --size at least 64")
    labels = generate(args.out_dir, args.count, args.size, args.seed)
    kinds: dict[str, int] = {}
    for label in labels.values():
        kinds[label["kind"]] = kinds.get(label["kind"], 0) + 1
    print(f"wrote {len(labels)} photos to {args.out_dir}: " + ", ".join(f"{k}={n}" for k, n in kinds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
