"""A labelled evaluation set for the quality gate: product photos with known masks.

Each photo is a product silhouette (bottle, box, mug, shoe, lamp) filled with a
crop of a real photograph from scikit-image's bundled data, so the model sees
natural texture, shaded like a lit object and set on a studio backdrop with a
sweep, vignetting, a soft contact shadow and sensor noise. The silhouette is the
ground truth. Besides the clean studio kinds there are hard ones: a white
product on white, a busy backdrop (another photo), and the defects the gate
exists for (cut off by the frame, tiny, out of focus, over-exposed, too small).

    .venv/bin/python bench/quality_set.py OUT_DIR [--count N] [--size PX] [--seed S]

writes OUT_DIR/images/<stem>.jpg|png, OUT_DIR/masks/<stem>.png (foreground 255,
background 0) and OUT_DIR/labels.json: {stem: {"kind", "shape", "defects"}},
where "defects" lists the quality reason codes the photo itself deserves
(empty for a good photo, whatever the model makes of it).

Pure numpy/Pillow/scipy, no Django: the tests import `make_photo` too.
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
from PIL import Image, ImageDraw
from scipy import ndimage

SHAPES = ("bottle", "box", "mug", "shoe", "lamp")

# kind: (share of the set, the quality reason codes the photo deserves)
KINDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "studio_white": (0.18, ()),
    "studio_grey": (0.14, ()),
    "studio_colour": (0.14, ()),
    "low_contrast": (0.08, ()),
    "busy_backdrop": (0.10, ()),
    "cut_off": (0.08, ("cut_off",)),
    "tiny": (0.07, ("tiny_product",)),
    "blurred": (0.07, ("blurry",)),
    "overexposed": (0.07, ("exposure",)),
    "low_resolution": (0.07, ("low_resolution",)),
}
CLEAN_KINDS = ("studio_white", "studio_grey", "studio_colour")

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

    def encode(self) -> bytes:
        buffer = io.BytesIO()
        if self.format == "JPEG":
            self.image.save(buffer, format="JPEG", quality=90)
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
    return Photo(image=image, mask=mask, kind=kind, shape=shape, defects=KINDS[kind][1], format=fmt)


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
    full = np.zeros((height, width, 3), dtype=np.float32)
    # Paste the box's part that lies inside the frame.
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(width, x0 + bw), min(height, y0 + bh)
    if fx1 > fx0 and fy1 > fy0:
        full[fy0:fy1, fx0:fx1] = surface[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    return full


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
        labels[stem] = {"kind": kind, "shape": photo.shape, "defects": list(photo.defects)}
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
