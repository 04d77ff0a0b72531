"""Cut the product out of its photo and place it on a marketplace canvas.

`compose_master` makes the master: the product trimmed to its bounding box,
alpha from the refined mask and edge colours cleaned of the old backdrop.
`place_on_canvas` scales a master onto a profile's canvas. Every resize is done
on premultiplied alpha, so transparent pixels never bleed into the edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

EDGES = ("top", "bottom", "left", "right")

# Lanczos rings: a few levels of alpha appear just outside a resized edge. Below
# this they are invisible but would break a pure-white background.
_RINGING_ALPHA = 4
# The soft shadow: darkness at its centre, and its height as a share of the product's width.
_SHADOW_OPACITY = 0.28
_SHADOW_HEIGHT = 0.07


@dataclass(frozen=True)
class ComposedMaster:
    image: Image.Image  # "RGBA": product trimmed to bbox plus padding, alpha = refined mask
    bbox: tuple[int, int, int, int]  # product bbox in input coordinates, before padding
    touches_edges: tuple[str, ...]  # frame edges the product touches, a subset of EDGES


def product_bbox(mask: Image.Image, threshold: int = 128) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pixels with mask >= threshold, right and bottom
    exclusive as in PIL; None when there are none."""
    if mask.mode != "L":
        raise ValueError(f"mask must be an 'L' image, not {mask.mode!r}")
    lut = [0] * threshold + [255] * (256 - threshold)
    return mask.point(lut).getbbox()


def touching_edges(foreground: np.ndarray, *, band: int = 2, min_run: float = 0.01) -> dict[str, float]:
    """The frame edges that `foreground` (a boolean array) touches, each with the longest
    run of foreground along it as a share of the edge's length.

    An edge counts when the outer `band` pixels hold an unbroken run of foreground
    at least `min_run` of the edge long (and at least 3 px): one stray pixel of a
    noisy mask is not a product cut off by the frame.
    """
    strips = {
        "top": foreground[:band].any(axis=0),
        "bottom": foreground[-band:].any(axis=0),
        "left": foreground[:, :band].any(axis=1),
        "right": foreground[:, -band:].any(axis=1),
    }
    touched = {}
    for edge in EDGES:
        strip = strips[edge]
        run = _longest_run(np.asarray(strip))
        if run >= max(3, min_run * strip.size):
            touched[edge] = run / strip.size
    return touched


def _longest_run(values: np.ndarray) -> int:
    padded = np.concatenate([[False], values, [False]])
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    if changes.size == 0:
        return 0
    return int((changes[1::2] - changes[::2]).max())


def compose_master(
    image: Image.Image, mask: Image.Image, *, padding: float = 0.02, alpha_threshold: int = 8
) -> ComposedMaster:
    """The product cut out of `image` by `mask`, trimmed to its bounding box (mask >= 128)
    plus `padding` (share of the box's longer side, transparent beyond the frame).

    Alpha below `alpha_threshold` becomes 0; the colours of every pixel that is not
    fully opaque are replaced by the product colour bled from nearby opaque pixels,
    so no trace of the old backdrop survives in the edge. Raises ValueError("empty
    mask") when nothing is foreground.
    """
    if mask.mode != "L":
        raise ValueError(f"mask must be an 'L' image, not {mask.mode!r}")
    if mask.size != image.size:
        raise ValueError(f"mask size {mask.size} differs from image size {image.size}")
    bbox = product_bbox(mask)
    if bbox is None:
        raise ValueError("empty mask")
    rgb_image = image if image.mode == "RGB" else image.convert("RGB")

    left, top, right, bottom = bbox
    pad = round(padding * max(right - left, bottom - top))
    crop = (left - pad, top - pad, right + pad, bottom + pad)
    # Cropping past the frame fills with zeros: a transparent margin.
    rgb = np.asarray(rgb_image.crop(crop))
    alpha = np.array(mask.crop(crop))
    alpha[alpha < alpha_threshold] = 0
    rgb = _decontaminate(rgb, alpha)
    master = Image.fromarray(np.dstack([rgb, alpha]), mode="RGBA")

    full = np.asarray(mask)
    touched = touching_edges(full >= 128)
    return ComposedMaster(image=master, bbox=bbox, touches_edges=tuple(e for e in EDGES if e in touched))


# The fine level of the colour bleed runs only in tiles of this size that hold soft
# edge pixels; everywhere else the next coarser level is exact enough (alpha 0).
_BLEED_TILE = 32


def _decontaminate(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Replace the colour of every pixel that is not fully opaque by the foreground
    colour bled from the nearest opaque pixels (normalised convolution, coarse to fine).

    The finest level (a 5×5 window) matters only where the edge is soft; it is made in
    the tiles that hold such pixels, and the rest comes from the coarser levels: on a
    12 MP photo a fifth of the work of filtering the whole frame at full size."""
    solid_level = 255 if (alpha == 255).any() else int(alpha.max())
    if solid_level == 0:
        return rgb
    solid = alpha >= solid_level
    weight = solid.astype(np.float32)
    # Planes first (r·w, g·w, b·w, w): the filters run on contiguous 2-D planes.
    planes = np.empty((4, *alpha.shape), dtype=np.float32)
    planes[:3] = np.moveaxis(rgb, 2, 0)
    planes[:3] *= weight
    planes[3] = weight
    height, width = alpha.shape
    coarse = _pull_push(_sum_pool(planes)) if height > 2 or width > 2 else _pull_push(planes)
    bled = np.clip(np.round(coarse), 0, 255).astype(np.uint8)
    if bled.shape[1:] != (height, width):
        bled = bled.repeat(2, axis=1).repeat(2, axis=2)[:, :height, :width]
    bled = np.ascontiguousarray(np.moveaxis(bled, 0, 2))
    soft = (alpha > 0) & ~solid
    for top, left in _tiles_holding(soft, _BLEED_TILE):
        _bleed_fine(planes, bled, (top, left), _BLEED_TILE)
    out = np.where(solid[..., None], rgb, bled)
    return np.ascontiguousarray(out)


def _tiles_holding(pixels: np.ndarray, tile: int) -> list[tuple[int, int]]:
    """(top, left) of every `tile`-sized tile of a boolean image with a True pixel."""
    height, width = pixels.shape
    rows, cols = -(-height // tile), -(-width // tile)
    padded = np.zeros((rows * tile, cols * tile), dtype=bool)
    padded[:height, :width] = pixels
    occupied = padded.reshape(rows, tile, cols, tile).any(axis=(1, 3))
    return [(int(r) * tile, int(c) * tile) for r, c in zip(*np.nonzero(occupied), strict=True)]


def _bleed_fine(planes: np.ndarray, bled: np.ndarray, corner: tuple[int, int], tile: int) -> None:
    """The 5×5 normalised box filter over one tile (with the 2 px it reaches beyond),
    written into `bled` where it found samples."""
    _, height, width = planes.shape
    top, left = corner
    bottom, right = min(top + tile, height), min(left + tile, width)
    y0, x0 = max(top - 2, 0), max(left - 2, 0)
    window = planes[:, y0 : min(bottom + 2, height), x0 : min(right + 2, width)]
    sums = ndimage.uniform_filter(window, size=5, mode="constant", axes=(1, 2))
    sums = sums[:, top - y0 : top - y0 + bottom - top, left - x0 : left - x0 + right - left]
    found = sums[3] > 0.5 / 25
    estimate = sums[:3] / np.maximum(sums[3], 1e-6)
    target = bled[top:bottom, left:right]
    colour = np.clip(np.round(np.moveaxis(estimate, 0, 2)), 0, 255).astype(np.uint8)
    target[found] = colour[found]


def _pull_push(planes: np.ndarray) -> np.ndarray:
    """Colour (3 planes) everywhere from weighted samples (r·w, g·w, b·w, w): a 5×5
    normalised box filter where samples are near, and the same one level coarser
    (recursively) where they are not."""
    sums = ndimage.uniform_filter(planes, size=5, mode="constant", axes=(1, 2))
    # At least about one sample in the window; the running sums leave tiny residues.
    found = sums[3] > 0.5 / 25
    estimate: np.ndarray = sums[:3] / np.maximum(sums[3], 1e-6)
    if found.all():
        return estimate
    height, width = found.shape
    if height <= 2 and width <= 2:
        total = planes.reshape(4, -1).sum(axis=1)
        estimate[:, ~found] = (total[:3] / max(total[3], 1e-6))[:, None]
        return estimate
    coarse = _pull_push(_sum_pool(planes))
    upsampled = coarse.repeat(2, axis=1).repeat(2, axis=2)[:, :height, :width]
    filled: np.ndarray = np.where(found, estimate, upsampled)
    return filled


def _sum_pool(planes: np.ndarray) -> np.ndarray:
    """2×2 sums over the last two axes; an odd last row or column sums what it has."""
    channels, height, width = planes.shape
    pooled = np.zeros((channels, (height + 1) // 2, (width + 1) // 2), dtype=planes.dtype)
    for dy in (0, 1):
        for dx in (0, 1):
            part = planes[:, dy::2, dx::2]
            pooled[:, : part.shape[1], : part.shape[2]] += part
    return pooled


def place_on_canvas(
    master: Image.Image,
    size: tuple[int, int],
    *,
    fill_ratio: float,
    background: tuple[int, int, int] | None,
    shadow: bool = False,
) -> Image.Image:
    """The master centred on a `size` canvas, scaled so its product bbox (alpha >= 128)
    spans `fill_ratio` of the canvas along the binding axis and never more on the other.

    `background` None gives a transparent "RGBA" canvas; a colour gives an "RGB"
    canvas of exactly that colour wherever the product is fully transparent, with an
    optional soft contact shadow under the product.
    """
    if not 0 < fill_ratio <= 1:
        raise ValueError(f"fill_ratio must be in (0, 1], not {fill_ratio}")
    canvas_w, canvas_h = size
    rgba = master if master.mode == "RGBA" else master.convert("RGBA")
    alpha = rgba.getchannel("A")
    bbox = product_bbox(alpha)
    if bbox is None:
        raise ValueError("the master has no opaque product")
    left, top, right, bottom = _subpixel_bbox(np.asarray(alpha), bbox)
    scale = min(fill_ratio * canvas_w / (right - left), fill_ratio * canvas_h / (bottom - top))

    # Where the product's bbox should land on the canvas, in canvas pixels (fractional).
    target_x = (canvas_w - (right - left) * scale) / 2
    target_y = (canvas_h - (bottom - top) * scale) / 2
    # Everything with any alpha, a little beyond the bbox for the soft edge.
    src_left, src_top, src_right, src_bottom = alpha.getbbox() or bbox  # never empty: bbox is not
    # A transparent margin so the resampling box never has to leave the source.
    margin = 4
    region = rgba.crop(
        (src_left - margin, src_top - margin, src_right + margin, src_bottom + margin)
    ).convert("RGBa")
    origin_x, origin_y = src_left - margin, src_top - margin

    # Paste at whole pixels and move the sampling box by the fraction left over, so the
    # product is centred to a fraction of a pixel and its scale is exact.
    dest_x = target_x - (left - origin_x) * scale
    dest_y = target_y - (top - origin_y) * scale
    paste_x, paste_y = math.floor(dest_x) + 1, math.floor(dest_y) + 1
    box_x0 = (paste_x - dest_x) / scale
    box_y0 = (paste_y - dest_y) / scale
    out_w = max(1, math.floor((region.width - box_x0) * scale))
    out_h = max(1, math.floor((region.height - box_y0) * scale))
    resized = region.resize(
        (out_w, out_h),
        Image.Resampling.LANCZOS,
        box=(box_x0, box_y0, box_x0 + out_w / scale, box_y0 + out_h / scale),
    )
    premultiplied = np.array(resized)
    premultiplied[premultiplied[..., 3] < _RINGING_ALPHA] = 0

    if background is None:
        canvas = Image.new("RGBa", size, (0, 0, 0, 0))
        canvas.paste(Image.fromarray(premultiplied, mode="RGBa"), (paste_x, paste_y))
        return canvas.convert("RGBA")

    canvas = Image.new("RGB", size, tuple(background))
    if shadow:
        product_box = (target_x, target_y, canvas_w - target_x, canvas_h - target_y)
        _draw_shadow(canvas, product_box)
    _composite(canvas, premultiplied, (paste_x, paste_y))
    return canvas


def _subpixel_bbox(
    alpha: np.ndarray, bbox: tuple[int, int, int, int], threshold: int = 128
) -> tuple[float, float, float, float]:
    """`bbox` refined to where the soft edge crosses `threshold`, interpolated between
    pixel centres. A whole-pixel box is off by up to a pixel on each side, which an
    enlargement to the canvas would multiply."""
    left, top, right, bottom = bbox
    columns = alpha[top:bottom].max(axis=0).astype(np.float32)
    rows = alpha[:, left:right].max(axis=1).astype(np.float32)

    def crossing(profile: np.ndarray, inside: int, outside: int) -> float:
        # The edge between pixel `inside` (>= threshold) and its neighbour `outside`.
        if not 0 <= outside < profile.size:
            return float(max(inside, outside))
        p_in, p_out = profile[inside], profile[outside]
        t = (p_in - threshold) / (p_in - p_out)  # 0 at the inside centre, 1 at the outside
        return float(inside + 0.5 + (outside - inside) * min(t, 1.0))

    return (
        crossing(columns, left, left - 1),
        crossing(rows, top, top - 1),
        crossing(columns, right - 1, right),
        crossing(rows, bottom - 1, bottom),
    )


def _composite(canvas: Image.Image, premultiplied: np.ndarray, at: tuple[int, int]) -> None:
    """`premultiplied` ("RGBa" pixels) over `canvas` at `at`, in place: out = c + (1 - a)·bg.

    With premultiplied colours this is exact, so the edge fades straight into the
    background with no dark or grey fringe."""
    x, y = at
    height, width = premultiplied.shape[:2]
    # Clip the layer to the canvas.
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + width, canvas.width), min(y + height, canvas.height)
    if x0 >= x1 or y0 >= y1:
        return
    layer = premultiplied[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    under = np.asarray(canvas.crop((x0, y0, x1, y1)), dtype=np.float32)
    cover = layer[..., 3:] / 255.0
    out = layer[..., :3] + (1.0 - cover) * under
    canvas.paste(Image.fromarray(np.clip(np.round(out), 0, 255).astype(np.uint8)), (x0, y0))


def _draw_shadow(canvas: Image.Image, product_box: tuple[float, float, float, float]) -> None:
    """Darken `canvas` in place with a blurred ellipse where the product meets the floor."""
    left, _, right, bottom = product_box
    width = (right - left) * 0.9
    height = max(4.0, (right - left) * _SHADOW_HEIGHT)
    radius = max(2.0, height / 3)
    centre_x = (left + right) / 2
    ellipse = (centre_x - width / 2, bottom - height / 2, centre_x + width / 2, bottom + height / 2)
    reach = math.ceil(3 * radius) + 1
    box = (
        max(0, math.floor(ellipse[0]) - reach),
        max(0, math.floor(ellipse[1]) - reach),
        min(canvas.width, math.ceil(ellipse[2]) + reach),
        min(canvas.height, math.ceil(ellipse[3]) + reach),
    )
    if box[0] >= box[2] or box[1] >= box[3]:
        return
    layer = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
    shifted = tuple(v - box[i % 2] for i, v in enumerate(ellipse))
    ImageDraw.Draw(layer).ellipse(shifted, fill=255)
    layer = layer.filter(ImageFilter.GaussianBlur(radius))
    darkness = np.asarray(layer, dtype=np.float32)[..., None] * (_SHADOW_OPACITY / 255.0)
    under = np.asarray(canvas.crop(box), dtype=np.float32)
    shaded = under * (1.0 - darkness)
    canvas.paste(Image.fromarray(np.round(shaded).astype(np.uint8)), box[:2])


def decontaminate_edges(rgba: Image.Image) -> Image.Image:
    """`rgba` with the colour of every pixel that is not fully opaque replaced by the
    product's own colour bled from the nearest opaque pixels (as compose_master does), so
    no backdrop colour is left to halo on whatever the cut-out is put on."""
    array = np.asarray(rgba.convert("RGBA"))
    rgb = _decontaminate(np.ascontiguousarray(array[..., :3]), np.ascontiguousarray(array[..., 3]))
    return Image.fromarray(np.dstack([rgb, array[..., 3]]), mode="RGBA")
