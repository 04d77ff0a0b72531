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
from PIL import Image, ImageFilter
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


def _register(
    name: str, rgb: tuple[int, int, int], lightness: tuple[float, float], near: float, far: float
) -> None:
    PRESETS[name] = MannequinColour(name, _chroma_of(rgb), lightness, near, far, green_spill=name == "green")


def preset(name: str) -> MannequinColour:
    """The mannequin colour called `name` ("grey", "skin", "green"); KeyError names the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown mannequin colour {name!r}; one of {', '.join(PRESETS)}") from None


@dataclass(frozen=True)
class MannequinMatte:
    matte: np.ndarray  # uint8 0..255 at the input size: how much of each pixel is mannequin
    found: np.ndarray  # bool: the mannequin regions kept (connected to the outside, or the neck)
    edge: np.ndarray  # bool: a ring 2 px wide around them, where the matte is soft
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
    q = rgb >> 2
    index = q[..., 0].astype(np.uint32)
    # In place: a third of the time of the shifted copies.
    index <<= 6
    index |= q[..., 1]
    index <<= 6
    index |= q[..., 2]
    return index


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    out: np.ndarray = t * t * (3 - 2 * t)
    return out


def _distance_table(colour: MannequinColour, chroma: tuple[float, float]) -> np.ndarray:
    """For every colour cell: its chroma-ratio distance from `chroma`, plus the amount its
    lightness lies outside the mannequin's range (0.01 a step of L*)."""
    table = _lab_ratio_table()
    low, high = colour.lightness
    lightness = table[:, 0]
    distance = np.hypot(table[:, 1] - np.float32(chroma[0]), table[:, 2] - np.float32(chroma[1]))
    distance += (np.maximum(low - lightness, 0) + np.maximum(lightness - high, 0)) * np.float32(0.01)
    return distance


def chroma_distance(
    rgb: np.ndarray, colour: MannequinColour, chroma: tuple[float, float] | None = None
) -> np.ndarray:
    """Distance of every pixel of an (..., 3) uint8 array from the mannequin: chroma-ratio
    distance, plus the amount its lightness lies outside the mannequin's range (0.01 a step
    of L*). `chroma` replaces the preset's (the mannequin as measured on a photo)."""
    out: np.ndarray = _distance_table(colour, chroma if chroma is not None else colour.chroma)[_index(rgb)]
    return out


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grown by a (2·radius+1)² square: the same as `radius` 3×3 dilations. Shifted ORs of
    the boolean array, one axis at a time: ten times faster than scipy's maximum filter."""
    out = mask.copy()
    for axis in (0, 1):
        source = out
        out = source.copy()
        for step in range(1, radius + 1):
            if axis == 0:
                out[step:] |= source[:-step]
                out[:-step] |= source[step:]
            else:
                out[:, step:] |= source[:, :-step]
                out[:, :-step] |= source[:, step:]
    return out


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    """Shrunk by a (2·radius+1)² square (the frame's edge does not erode)."""
    return ~dilate(~mask, radius)


def soften(plane: np.ndarray) -> np.ndarray:
    """A [1, 2, 1]/4 blur each way: about a Gaussian of σ 0.7 px, in a fraction of its time."""
    kernel = np.array([0.25, 0.5, 0.25], dtype=np.float32)
    out: np.ndarray = ndimage.correlate1d(ndimage.correlate1d(plane, kernel, axis=0), kernel, axis=1)
    return out


def find_mannequin(
    rgb: np.ndarray,
    silhouette: np.ndarray,
    colour: MannequinColour,
    *,
    min_share: float = 0.002,
    neck_region: tuple[int, int, int, int] | None = None,
) -> MannequinMatte:
    """The mannequin inside `silhouette` (the cut-out's alpha, (h, w) uint8) of an RGB photo
    ((h, w, 3) uint8).

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
    inside = silhouette >= 128
    index = _index(rgb)
    table = _lab_ratio_table()
    # Every test is made once per colour cell (64³), then gathered per pixel as a byte.
    near = _distance_table(colour, colour.chroma) < colour.near
    candidates = np.flatnonzero((inside & near[index]).ravel())
    chroma = colour.chroma
    if candidates.size > 50:
        sample = table[index.ravel()[candidates[:: max(1, candidates.size // 20000)]]]
        measured = (float(np.median(sample[:, 1])), float(np.median(sample[:, 2])))
        # Follow the photo's mannequin only as far as the preset's own tolerance.
        if np.hypot(measured[0] - chroma[0], measured[1] - chroma[1]) < colour.near:
            chroma = measured
    distance = _distance_table(colour, chroma)
    raw = inside & (distance < (colour.near + colour.far) / 2)[index]
    # Texture specks of a garment that happen to match are not a mannequin.
    hard = dilate(erode(raw, 2), 2)
    # Regions of mannequin colour, judged by what is left of them once specks are gone.
    labels, count = ndimage.label(raw, structure=np.ones((3, 3), bool))
    found = np.zeros_like(raw)
    interior = np.zeros_like(raw)
    if count:
        sizes = np.bincount(labels[hard], minlength=count + 1)
        deep = erode(inside, 3)
        rim = hard & ~deep
        touching = np.bincount(labels[rim], minlength=count + 1) > 0
        in_neck = np.zeros(count + 1, dtype=bool)
        if neck_region is not None:
            left, top, right, bottom = neck_region
            window = labels[top:bottom, left:right][hard[top:bottom, left:right]]
            in_neck = np.bincount(window, minlength=count + 1) > 0
        big = sizes >= max(min_share * inside.sum(), 16)
        big[0] = False
        # Thin parts the specks' removal cut off (a sliver of shoulder above the seam) stay
        # with the region they belong to.
        keep = big & (touching | in_neck)
        # Specks of compression noise inside the mannequin (a JPEG's chroma near an edge)
        # would stay as faint dots: gaps up to 4 px across are closed.
        found = erode(dilate(keep[labels], 2), 2) & inside
        reach = max(3, round(0.003 * max(inside.shape)))
        found |= _enclosed(found, inside, erode(deep, reach - 3) if reach > 3 else deep)
        if (big & ~keep).any():
            interior = (big & ~keep)[labels]
    # Soft edges: the matte follows the colour distance in a thin band around the kept regions.
    band = dilate(found, 2)
    soft = np.round(255 * (1.0 - _smoothstep(colour.near, colour.far, distance))).astype(np.uint8)
    matte = np.zeros(found.shape, dtype=np.uint8)
    matte[band] = soft[index[band]]
    matte[found] = 255
    # Where the mannequin meets the backdrop the pixels mix the two, matching neither:
    # the silhouette's soft edge beside the mannequin goes with it.
    matte[band & (silhouette < 250)] = 255
    # About a Gaussian of σ 0.7 px: PIL's [1, 2, 1]/4 box blur on 8 bits, a fraction of the
    # float filter's time. It softens the transition only: what was found stays wholly mannequin.
    blurred = np.array(Image.fromarray(matte).filter(ImageFilter.BoxBlur(0.5)))
    blurred[found] = 255
    return MannequinMatte(matte=blurred, found=found, edge=band & ~found, interior=interior, chroma=chroma)


def _enclosed(found: np.ndarray, inside: np.ndarray, deep: np.ndarray) -> np.ndarray:
    """What the mannequin wholly surrounds: a highlight on a glossy mannequin, a seam, a
    joint. The garment always reaches the silhouette's outside (it hangs over the
    mannequin), so a piece of the silhouette walled in by mannequin is mannequin too.
    "Reaches" means comes out of `deep` (the silhouette shrunk by a few px): a rim of grey
    backdrop the cut-out mask kept around the garment looks like a grey mannequin. Nothing
    is taken when the walled-in pieces are a third of what is left or more: then it is the
    garment itself."""
    rest: np.ndarray = inside & ~found
    labels, count = ndimage.label(rest)
    if not count:
        return rest
    reaches_out = np.bincount(labels[rest & ~deep], minlength=count + 1) > 0
    walled = ~reaches_out
    walled[0] = False
    out: np.ndarray = walled[labels]
    if out.sum() * 3 >= rest.sum():
        return np.zeros_like(rest)
    return out


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
    # A cell is near the mannequin when any of its pixels is: a strip may be thinner than a cell.
    small_m = np.asarray(Image.fromarray(mannequin).convert("L").reduce(step)) > 0
    small_g = np.asarray(Image.fromarray(garment).convert("L").reduce(step), dtype=np.float32) / 255
    small_rgb = np.asarray(Image.fromarray(rgb, mode="RGB").reduce(step), dtype=np.float32)
    distance = ndimage.distance_transform_edt(~small_m) * step
    # Full within a third of the reach, none beyond it.
    near_small = np.clip(1.5 * (1 - distance / reach), 0, 1).astype(np.float32)
    far = small_g * (near_small == 0)
    # The garment's colour near the mannequin, from beyond the reach: a wide normalised box
    # blur (twice, about a Gaussian), whose cost does not grow with its width.
    size = max(3, int(reach / step * 3) | 1)
    weights = _box2(far, size) + 1e-6
    green = _box2(small_rgb[..., 1] * far, size) / weights
    red_blue = _box2((small_rgb[..., 0] + small_rgb[..., 2]) * far, size) / weights
    ratio = (green / (red_blue + 1)).astype(np.float32)
    # Only the pixels near the mannequin are touched: a thin band of the frame.
    reached = dilate(near_small > 0, 1).repeat(step, axis=0).repeat(step, axis=1)[:height, :width]
    ys, xs = np.nonzero(garment & reached)
    weight = _sample(near_small, ys, xs, step)
    pixels = rgb[ys, xs].astype(np.float32)
    expected = _sample(ratio, ys, xs, step) * (pixels[:, 0] + pixels[:, 2] + 1)
    pixels[:, 1] -= np.maximum(pixels[:, 1] - expected, 0) * weight
    out = rgb.copy()
    out[ys, xs] = np.clip(np.round(pixels), 0, 255).astype(np.uint8)
    return out


def _box2(plane: np.ndarray, size: int) -> np.ndarray:
    out: np.ndarray = ndimage.uniform_filter(
        ndimage.uniform_filter(plane, size, mode="constant"), size, mode="constant"
    )
    return out


def _sample(plane: np.ndarray, ys: np.ndarray, xs: np.ndarray, step: int) -> np.ndarray:
    """`plane` (made at 1/`step` of the size, each cell the mean of its pixels) read
    bilinearly at the full-size pixels (ys, xs)."""
    fy = np.clip((ys.astype(np.float32) + 0.5) / step - 0.5, 0, plane.shape[0] - 1)
    fx = np.clip((xs.astype(np.float32) + 0.5) / step - 0.5, 0, plane.shape[1] - 1)
    y0, x0 = fy.astype(np.intp), fx.astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, plane.shape[0] - 1), np.minimum(x0 + 1, plane.shape[1] - 1)
    wy, wx = fy - y0, fx - x0
    top = plane[y0, x0] * (1 - wx) + plane[y0, x1] * wx
    bottom = plane[y1, x0] * (1 - wx) + plane[y1, x1] * wx
    out: np.ndarray = top * (1 - wy) + bottom * wy
    return out


_register("grey", (150, 150, 150), (22.0, 92.0), near=0.07, far=0.14)
_register("skin", (224, 178, 148), (25.0, 95.0), near=0.08, far=0.15)
_register("green", (40, 177, 72), (20.0, 90.0), near=0.35, far=0.55)
