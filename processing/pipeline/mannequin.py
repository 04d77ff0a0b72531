"""Find the mannequin inside a cut-out by its colour.

Studios shoot apparel on grey, skin-coloured or chroma-green mannequins. Where the
mannequin shows (the neck above and inside the collar, the arm stubs, below the hem)
it has one surface colour under changing light: bright where the key light hits,
dark inside the collar where the garment shades it.

**Colour space.** CIE Lab is perceptual but its a* and b* shrink with the light.
Under a change of light intensity by k every one of fx, fy, fz scales by k^(1/3),
so a* / (L* + 16) and b* / (L* + 16) do not change at all (above Lab's linear toe,
L* ≈ 8): a shaded patch of the mannequin has the same *chroma ratio* as a lit one,
while a garment of another hue or saturation does not. Lightness is only used
loosely (a grey mannequin and a black or white garment share a chroma ratio of
zero and differ in lightness alone).

Every colour is looked up in a 64-level-per-channel table (4 sRGB levels a step), so a
12-megapixel photo costs one index and three gathers rather than a Lab conversion.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage


@dataclass(frozen=True)
class MannequinColour:
    """A mannequin's surface: its chroma ratio (a*/(L*+16), b*/(L*+16)) and the lightness
    range it spans from deep shade to highlight."""

    name: str
    chroma: tuple[float, float]
    lightness: tuple[float, float]
    # How far from `chroma` a pixel is surely the mannequin / surely not (chroma-ratio units).
    near: float
    far: float
    green_spill: bool = False


def _chroma_of(rgb: tuple[int, int, int]) -> tuple[float, float]:
    lab = _lab_ratio_table()[_index(np.array([[rgb]], dtype=np.uint8))][0, 0]
    return float(lab[1]), float(lab[2])


# What studios use; a batch or category names one of them.
PRESETS: dict[str, MannequinColour] = {}


def _register(name: str, rgb: tuple[int, int, int], lightness: tuple[float, float], near: float, far: float) -> None:
    PRESETS[name] = MannequinColour(name, _chroma_of(rgb), lightness, near, far, green_spill=name == "green")


def preset(name: str) -> MannequinColour:
    """The mannequin colour called `name` ("grey", "skin", "green"); KeyError names the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown mannequin colour {name!r}; one of {', '.join(PRESETS)}") from None


@dataclass(frozen=True)
class MannequinMatte:
    matte: np.ndarray  # float32 0..1 at the input size: how much of each pixel is mannequin
    found: np.ndarray  # bool: the mannequin regions kept (connected to the outside, or the neck)
    interior: np.ndarray  # bool: mannequin-coloured regions enclosed by the garment, left in place
    chroma: tuple[float, float]  # the mannequin's chroma ratio as measured on this photo


@functools.cache
def _lab_ratio_table() -> np.ndarray:
    """(64**3, 3) float32: L*, a*/(L*+16), b*/(L*+16) for the centre of each 6-bit colour cell."""
    levels = (np.arange(64, dtype=np.float64) * 4 + 1.5) / 255
    linear = np.where(levels <= 0.04045, levels / 12.92, ((levels + 0.055) / 1.055) ** 2.4)
    r, g, b = np.meshgrid(linear, linear, linear, indexing="ij")
    # sRGB (D65) to XYZ, normalised by the white point.
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: np.ndarray) -> np.ndarray:
        return np.where(t > 216 / 24389, np.cbrt(t), (24389 / 27 * t + 16) / 116)

    fx, fy, fz = f(x), f(y), f(z)
    lightness = 116 * fy - 16
    denominator = lightness + 16
    table = np.stack([lightness, 500 * (fx - fy) / denominator, 200 * (fy - fz) / denominator], axis=-1)
    return np.ascontiguousarray(table.reshape(-1, 3).astype(np.float32))


def _index(rgb: np.ndarray) -> np.ndarray:
    """The table row of every pixel of an (h, w, 3) uint8 array."""
    q = (rgb >> 2).astype(np.uint32)
    return (q[..., 0] << 12) | (q[..., 1] << 6) | q[..., 2]


def lab_ratio(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L*, a*/(L*+16) and b*/(L*+16) of an (h, w, 3) uint8 array, each (h, w) float32."""
    table = _lab_ratio_table()
    index = _index(rgb)
    return table[:, 0][index], table[:, 1][index], table[:, 2][index]


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    out: np.ndarray = t * t * (3 - 2 * t)
    return out


def chroma_distance(rgb: np.ndarray, colour: MannequinColour, chroma: tuple[float, float] | None = None) -> np.ndarray:
    """Distance of every pixel from the mannequin: chroma-ratio distance, plus the amount the
    pixel's lightness lies outside the mannequin's range (in the same units, 0.01 per L*)."""
    lightness, a, b = lab_ratio(rgb)
    ca, cb = chroma if chroma is not None else colour.chroma
    distance = np.hypot(a - ca, b - cb)
    low, high = colour.lightness
    outside = np.maximum(low - lightness, 0) + np.maximum(lightness - high, 0)
    distance += outside * 0.01
    return distance


def find_mannequin(
    image: Image.Image,
    silhouette: np.ndarray,
    colour: MannequinColour,
    *,
    min_share: float = 0.002,
    neck_region: tuple[int, int, int, int] | None = None,
) -> MannequinMatte:
    """The mannequin inside `silhouette` (the cut-out's alpha, (h, w) uint8) of an RGB photo.

    A pixel is mannequin-coloured when its chroma ratio is within `colour.near` of the
    mannequin's (fading out by `colour.far`) and its lightness within the range. The
    mannequin's own chroma ratio is measured on the photo (the median of the pixels that
    match the preset), so a warmer grey or a paler skin tone is followed. Regions of
    mannequin colour are kept when they reach the outside of the silhouette (the mannequin
    always continues beyond the garment: above the collar, out of the sleeves, below the
    hem) or lie in `neck_region` (left, top, right, bottom), and when they are at least
    `min_share` of the silhouette; regions enclosed by the garment are left in place and
    reported as `interior` (a print in the mannequin's colour, or mannequin showing through:
    a person decides)."""
    rgb = np.asarray(image.convert("RGB") if image.mode != "RGB" else image)
    inside = silhouette >= 128
    lightness, a, b = lab_ratio(rgb)
    low, high = colour.lightness

    def distance(chroma: tuple[float, float]) -> np.ndarray:
        d = np.hypot(a - chroma[0], b - chroma[1])
        d += (np.maximum(low - lightness, 0) + np.maximum(lightness - high, 0)) * 0.01
        return d

    first = distance(colour.chroma)
    candidates = inside & (first < colour.near)
    chroma = colour.chroma
    if candidates.sum() > 50:
        measured = (float(np.median(a[candidates])), float(np.median(b[candidates])))
        # Follow the photo's mannequin only as far as the preset's own tolerance.
        if np.hypot(measured[0] - chroma[0], measured[1] - chroma[1]) < colour.near:
            chroma = measured
    d = distance(chroma) if chroma != colour.chroma else first
    soft = 1.0 - _smoothstep(colour.near, colour.far, d)
    raw = inside & (d < (colour.near + colour.far) / 2)
    hard = raw
    # Texture specks of a garment that happen to match are not a mannequin.
    hard = ndimage.binary_opening(hard, structure=np.ones((3, 3), bool), iterations=2)
    hard = ndimage.binary_closing(hard, structure=np.ones((3, 3), bool), iterations=2) & inside
    labels, count = ndimage.label(hard, structure=np.ones((3, 3), bool))
    found = np.zeros_like(hard)
    interior = np.zeros_like(hard)
    if count:
        outside = ndimage.binary_dilation(~inside, structure=np.ones((3, 3), bool), iterations=3)
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        touching = np.bincount(labels[outside].ravel(), minlength=count + 1) > 0
        in_neck = np.zeros(count + 1, dtype=bool)
        if neck_region is not None:
            left, top, right, bottom = neck_region
            in_neck[np.unique(labels[top:bottom, left:right])] = True
        big = sizes >= max(min_share * inside.sum(), 16)
        keep = big & (touching | in_neck)
        keep[0] = False
        left_in = big & ~keep
        left_in[0] = False
        found = keep[labels]
        interior = left_in[labels]
        # Thin parts the opening cut off (a sliver of shoulder above the seam) come back
        # when they touch what was kept.
        raw_labels, _ = ndimage.label(raw, structure=np.ones((3, 3), bool))
        attached = np.unique(raw_labels[found])
        found = np.isin(raw_labels, attached[attached > 0])
    # Soft edges: the matte follows the colour distance in a thin band around the kept regions.
    band = ndimage.binary_dilation(found, structure=np.ones((3, 3), bool), iterations=2)
    matte = np.where(band, soft, 0.0).astype(np.float32)
    matte[found] = 1.0
    # Where the mannequin meets the backdrop the pixels mix the two, matching neither:
    # the silhouette's soft edge beside the mannequin goes with it.
    matte[band & (silhouette < 250)] = 1.0
    matte = ndimage.gaussian_filter(matte, 0.7)
    return MannequinMatte(matte=matte, found=found, interior=interior, chroma=chroma)


def despill_green(rgb: np.ndarray, mannequin: np.ndarray, garment: np.ndarray, reach: float) -> np.ndarray:
    """Green light bounced off a chroma-green mannequin, taken off the garment near it.

    The garment's own colour is estimated from its pixels farther than `reach` px from
    the `mannequin` (a normalised blur); within `reach` a pixel's green may not exceed
    what that colour would have at the pixel's own red and blue, fully beside the
    mannequin and fading with distance. Any garment colour keeps its hue (a red or a
    mustard shirt as much as a grey one); only green beyond it goes. Works at a quarter
    of the size: spill is smooth."""
    step = 4
    height, width = mannequin.shape
    small_m = _shrink(mannequin.astype(np.float32), step)
    small_g = _shrink(garment.astype(np.float32), step)
    small_rgb = np.stack([_shrink(rgb[..., c].astype(np.float32), step) for c in range(3)], axis=-1)
    sigma = max(reach / step / 2, 1.0)
    distance = ndimage.distance_transform_edt(small_m == 0) * step  # any mannequin in the cell: a strip may be thinner
    # Full within a third of the reach, none beyond it.
    near_small = np.clip(1.5 * (1 - distance / reach), 0, 1).astype(np.float32)
    far = small_g * (near_small < 0.02)
    weights = ndimage.gaussian_filter(far, sigma * 3) + 1e-6
    reference = np.stack([ndimage.gaussian_filter(small_rgb[..., c] * far, sigma * 3) for c in range(3)], axis=-1)
    reference /= weights[..., None]
    near = _grow(near_small, step, (height, width)) * garment
    ref = np.stack([_grow(reference[..., c], step, (height, width)) for c in range(3)], axis=-1)
    out = rgb.astype(np.float32)
    expected = ref[..., 1] * (out[..., 0] + out[..., 2] + 1) / (ref[..., 0] + ref[..., 2] + 1)
    excess = np.maximum(out[..., 1] - expected, 0)
    out[..., 1] -= excess * near
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _shrink(plane: np.ndarray, step: int) -> np.ndarray:
    height, width = plane.shape
    h, w = -(-height // step) * step, -(-width // step) * step
    padded = np.pad(plane, ((0, h - height), (0, w - width)), mode="edge")
    out: np.ndarray = padded.reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    return out


def _grow(plane: np.ndarray, step: int, shape: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(plane.astype(np.float32), mode="F")
    big = image.resize((plane.shape[1] * step, plane.shape[0] * step), Image.Resampling.BILINEAR)
    return np.asarray(big)[: shape[0], : shape[1]]


_register("grey", (150, 150, 150), (22.0, 92.0), near=0.07, far=0.14)
_register("skin", (224, 178, 148), (25.0, 95.0), near=0.08, far=0.15)
_register("green", (40, 177, 72), (20.0, 90.0), near=0.35, far=0.55)
