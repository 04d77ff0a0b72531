"""Ghost mannequin: the garment as if worn by no one.

From a cut-out of apparel shot on a mannequin (the photo and its cut-out mask, which
holds garment and mannequin alike), `make_ghost`:

1. finds the mannequin by its colour (`mannequin.find_mannequin`) and takes it out of
   the alpha, with soft edges where garment and mannequin meet;
2. takes green bounced off a chroma-green mannequin off the garment near it;
3. finds the neck opening: the mannequin seen between the garment's shoulders, above
   the front neckline (garment on both sides of it, row by row, in the upper part);
   arm openings and whatever shows below the hem simply become transparent;
4. with an inner shot (the inside back with its label, cut out the same way), scales
   it to the opening's width, places its top at the opening's top, centred, and lays
   it *behind* the front, clipped to the opening (grown a little, so it tucks under
   the collar);
5. composes the master like any cut-out (`compose.compose_master`: trimmed, edge
   colours cleaned).

Doubtful results carry reasons a person understands (`REASONS`): mannequin colour
left inside the garment, no neck opening, an inner shot that cannot fill the opening,
no mannequin found at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageChops
from scipy import ndimage

from processing.pipeline.compose import ComposedMaster, compose_master
from processing.pipeline.mannequin import (
    MannequinColour,
    chroma_distance,
    despill_green,
    dilate,
    erode,
    find_mannequin,
    soften,
)

REASONS: dict[str, str] = {
    "mannequin_not_found": (
        "No mannequin of the chosen colour was found in the photo: "
        "check the mannequin colour set on the batch or category."
    ),
    "mannequin_left": (
        "Part of the garment has the mannequin's colour and was kept: "
        "check whether the mannequin still shows there or it is the garment's own colour."
    ),
    "no_opening": (
        "No neck opening was found (no mannequin seen between the shoulders): the neck may look closed."
    ),
    "inner_not_placed": (
        "The inner shot could not be fitted into the neck opening: it does not cover the opening."
    ),
}

# The neck opening is looked for in this upper share of the cut-out's height.
_NECK_ZONE = 0.45
# Mannequin colour enclosed by the garment counts as the mannequin's neck in this upper
# share of the cut-out's height (and its middle third across).
_COLLAR_ZONE = 0.25
# The inner shot is scaled to this multiple of the opening's width: it tucks under the collar.
_INNER_OVERLAP = 1.12
# An inner shot must cover this share of the opening to be kept.
_INNER_MIN_COVER = 0.9
# Mannequin colour kept inside the garment above this share of the garment is doubtful.
_LEFT_MAX_SHARE = 0.002
# Green spill is taken off within this share of the garment's size from the mannequin.
_SPILL_REACH = 0.03
# The widest rim of backdrop a cut-out mask may hold around the mannequin, as a share of the
# cut-out's size (4 px at 2000 px).
_RIM_SHARE = 0.002
# Pixels around the cut-out's box worked on with it: soft edges and the morphology's reach.
_MARGIN = 8


@dataclass(frozen=True)
class Cutout:
    """A photo and its cut-out mask ("L", 255 product), the same size."""

    image: Image.Image
    mask: Image.Image


@dataclass(frozen=True)
class GhostResult:
    master: ComposedMaster
    # The composite before trimming, over the part of the photo worked on: "RGBA", its
    # top-left corner at `corner` of the photo. `full` puts it on the photo's frame.
    work: Image.Image
    corner: tuple[int, int]
    frame: tuple[int, int]  # the photo's (width, height)
    mannequin_work: np.ndarray  # bool over `work`: the mannequin found and taken out
    opening_work: np.ndarray  # bool over `work`: the neck opening (empty when none was found)
    reasons: tuple[str, ...]
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        return [REASONS[code] for code in self.reasons]

    @property
    def full(self) -> Image.Image:
        """The composite on the photo's frame (transparent beyond the part worked on)."""
        canvas = Image.new("RGBA", self.frame, (0, 0, 0, 0))
        canvas.paste(self.work, self.corner)
        return canvas

    @property
    def mannequin(self) -> np.ndarray:
        return self._on_frame(self.mannequin_work)

    @property
    def opening(self) -> np.ndarray:
        return self._on_frame(self.opening_work)

    def _on_frame(self, pixels: np.ndarray) -> np.ndarray:
        out = np.zeros((self.frame[1], self.frame[0]), dtype=bool)
        x, y = self.corner
        out[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
        return out


class GhostError(ValueError):
    """The photo cannot make a ghost master at all (no garment left); the message says why."""


def make_ghost(front: Cutout, colour: MannequinColour, inner: Cutout | None = None) -> GhostResult:
    """The ghost-mannequin master of `front` (see the module's docstring). `inner`, when
    given, is placed into the neck opening; when it cannot be, the master is made without
    it and `inner_not_placed` says so. Raises GhostError when no garment is left."""
    mask = front.mask if front.mask.mode == "L" else front.mask.convert("L")
    if mask.size != front.image.size:
        raise ValueError(f"mask size {front.mask.size} differs from image size {front.image.size}")
    box = mask.point([0] * 128 + [255] * 128).getbbox()
    if box is None:
        raise GhostError("The cut-out is empty.")
    # Everything happens inside the cut-out's box, with a margin for soft edges.
    width, height = mask.size
    x0, y0 = max(box[0] - _MARGIN, 0), max(box[1] - _MARGIN, 0)
    x1, y1 = min(box[2] + _MARGIN, width), min(box[3] + _MARGIN, height)
    image = front.image if front.image.mode == "RGB" else front.image.convert("RGB")
    rgb = np.asarray(image.crop((x0, y0, x1, y1)))
    alpha = np.asarray(mask.crop((x0, y0, x1, y1)))
    inside = alpha >= 128
    left, top, right, bottom = box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0
    neck_box = (
        left + (right - left) // 4,
        top,
        right - (right - left) // 4,
        top + int((bottom - top) * _NECK_ZONE),
    )
    # A mannequin region enclosed by the garment is kept as mannequin only up here, where a
    # neck cut flush with the collar shows; lower down it may be a print in its colour.
    collar_box = (
        left + (right - left) // 3,
        top,
        right - (right - left) // 3,
        top + int((bottom - top) * _COLLAR_ZONE),
    )
    found = find_mannequin(rgb, alpha, colour, neck_region=collar_box)
    reasons: list[str] = []
    figures: dict[str, float] = {}

    # alpha × (1 − matte), in 8 bits by PIL (a fifth of numpy's widening arithmetic).
    garment_alpha = np.array(
        ImageChops.multiply(Image.fromarray(alpha), ImageChops.invert(Image.fromarray(found.matte)))
    )
    garment = garment_alpha >= 128
    rim = _backdrop_rim(garment, found.found, max(2, round(_RIM_SHARE * max(right - left, bottom - top))))
    if rim.any():
        garment_alpha[rim] = 0
        garment &= ~rim
    if garment.sum() < 0.05 * inside.sum():
        raise GhostError("Almost all of the cut-out has the mannequin's colour: no garment is left.")
    figures["mannequin_share"] = round(float(found.found.sum()) / float(inside.sum()), 4)
    if not found.found.any():
        reasons.append("mannequin_not_found")

    if colour.green_spill and found.found.any():
        reach = max(2.0, _SPILL_REACH * max(right - left, bottom - top))
        rgb = despill_green(rgb, found.found, garment, reach)

    opening = _neck_opening(found.found, garment, neck_box)
    figures["opening_px"] = float(opening.sum())
    if not opening.any():
        reasons.append("no_opening")

    out_rgb = rgb.copy()
    out_alpha = garment_alpha.copy()
    if inner is not None and opening.any():
        placed = _place_inner(inner, opening)
        cover = 0.0 if placed is None else placed.cover
        figures["inner_cover"] = round(cover, 4)
        if placed is None or cover < _INNER_MIN_COVER:
            reasons.append("inner_not_placed")
        else:
            _lay_behind(out_rgb, out_alpha, garment_alpha, placed)
    elif inner is not None:
        reasons.append("inner_not_placed")

    # What is kept and still has the mannequin's colour, away from the opening's new content.
    kept = out_alpha >= 128
    if opening.any():
        o_left, o_top, o_right, o_bottom = _bbox(opening) or (0, 0, 0, 0)
        window = (slice(max(o_top - 3, 0), o_bottom + 3), slice(max(o_left - 3, 0), o_right + 3))
        kept[window] &= ~dilate(opening[window], 3)
    suspects = kept & (found.interior | found.edge)
    strict = chroma_distance(out_rgb[suspects][None], colour, found.chroma)[0] < colour.near
    share = float(strict.sum()) / float(max(int(kept.sum()), 1))
    figures["mannequin_left_share"] = round(share, 5)
    if found.interior.any() or share > _LEFT_MAX_SHARE:
        reasons.append("mannequin_left")

    composed = compose_master(Image.fromarray(out_rgb, mode="RGB"), Image.fromarray(out_alpha, mode="L"))
    shifted = (composed.bbox[0] + x0, composed.bbox[1] + y0, composed.bbox[2] + x0, composed.bbox[3] + y0)
    return GhostResult(
        master=ComposedMaster(image=composed.image, bbox=shifted, touches_edges=composed.touches_edges),
        work=Image.fromarray(np.dstack([out_rgb, out_alpha]), mode="RGBA"),
        corner=(x0, y0),
        frame=(width, height),
        mannequin_work=found.found,
        opening_work=opening,
        reasons=tuple(dict.fromkeys(reasons)),
        figures=figures,
    )


@dataclass(frozen=True)
class _Placed:
    rgb: np.ndarray  # (h, w, 3) float32: the inner shot over `box` of the front
    alpha: np.ndarray  # (h, w) float32 0..1
    box: tuple[int, int, int, int]  # (left, top, right, bottom) on the front
    cover: float  # share of the opening the inner shot covers


def _lay_behind(rgb: np.ndarray, alpha: np.ndarray, garment_alpha: np.ndarray, placed: _Placed) -> None:
    """The inner shot behind the front, clipped to the opening it was placed in (grown a
    little and softened, so it tucks under the collar); `rgb` and `alpha` change in place."""
    left, top, right, bottom = placed.box
    front = garment_alpha[top:bottom, left:right] / np.float32(255)
    behind = placed.alpha
    total = front + behind * (1.0 - front)
    safe = np.maximum(total, 1e-6)[..., None]
    # Front over inner, in straight (not premultiplied) colour.
    mixed = (
        rgb[top:bottom, left:right] * front[..., None] + placed.rgb * (behind * (1.0 - front))[..., None]
    ) / safe
    rgb[top:bottom, left:right] = np.clip(np.round(mixed), 0, 255).astype(np.uint8)
    alpha[top:bottom, left:right] = np.clip(np.round(total * 255), 0, 255).astype(np.uint8)


def _bbox(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(pixels.any(axis=1))
    cols = np.flatnonzero(pixels.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _backdrop_rim(garment: np.ndarray, mannequin: np.ndarray, width: int) -> np.ndarray:
    """Thin pieces left beside the mannequin once it is gone: the rim of backdrop a cut-out
    mask often holds around its silhouette. Next to the garment that rim is the cut-out's
    own edge; next to the mannequin it would stay as a ghostly outline, and rows of it
    beside the neck would look like garment on both sides of it. Pieces of what is left
    narrower than 2·`width` + 1 px (what an opening of that size removes) that touch the
    mannequin are the rim; the garment's own parts are wider."""
    if not mannequin.any():
        return np.zeros_like(garment)
    thin: np.ndarray = garment & ~dilate(erode(garment, width), width)
    labels, count = ndimage.label(thin, structure=np.ones((3, 3), bool))
    if not count:
        return thin
    touching = np.bincount(labels[thin & dilate(mannequin, 1)], minlength=count + 1) > 0
    touching[0] = False
    rim: np.ndarray = touching[labels]
    return rim


def _neck_opening(
    mannequin: np.ndarray, garment: np.ndarray, neck_box: tuple[int, int, int, int]
) -> np.ndarray:
    """The mannequin seen between the shoulders: mannequin pixels in the neck zone with garment
    on both sides in their row; the largest such region that reaches the middle third."""
    left, top, right, bottom = neck_box
    zone_m = mannequin[top:bottom]
    zone_g = garment[top:bottom]
    width = zone_g.shape[1]
    cols = np.arange(width)
    has = zone_g.any(axis=1)
    first = np.where(has, zone_g.argmax(axis=1), width)
    last = np.where(has, width - 1 - zone_g[:, ::-1].argmax(axis=1), -1)
    # Garment on both sides: between a garment pixel left of centre and one right of it.
    centre = (left + right) // 2
    both_sides = np.logical_and(zone_g[:, :centre].any(axis=1), zone_g[:, centre:].any(axis=1))
    between = (cols[None, :] > first[:, None]) & (cols[None, :] < last[:, None]) & both_sides[:, None]
    enclosed = zone_m & between
    labels, count = ndimage.label(enclosed)
    opening = np.zeros_like(mannequin)
    if not count:
        return opening
    middle = np.unique(labels[:, left:right])
    middle = middle[middle > 0]
    if middle.size == 0:
        return opening
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    best = int(middle[np.argmax(sizes[middle])])
    if sizes[best] < 16:
        return opening
    opening[top:bottom] = labels == best
    return opening


def _place_inner(inner: Cutout, opening: np.ndarray) -> _Placed | None:
    """The inner shot on the front's frame, clipped to the opening (grown by 3 px, softened):
    its neckline (the width of its top tenth) scaled to the opening's width (times the
    overlap), its top at the opening's top, centred on the opening. None when the inner
    shot has no content."""
    mask = inner.mask.convert("L")
    box = mask.point([0] * 128 + [255] * 128).getbbox()
    opening_box = _bbox(opening)
    if box is None or opening_box is None:
        return None
    o_left, o_top, o_right, _ = opening_box
    crop_w, crop_h = box[2] - box[0], box[3] - box[1]
    # The inner shot's neckline is its top: its width there is matched to the opening's.
    top_rows = np.asarray(mask.crop(box))[: max(1, crop_h // 10)] >= 128
    cols = np.flatnonzero(top_rows.any(axis=0))
    neck_left, neck_right = int(cols[0]), int(cols[-1]) + 1
    scale = (o_right - o_left) * _INNER_OVERLAP / (neck_right - neck_left)
    size = (max(1, round(crop_w * scale)), max(1, round(crop_h * scale)))
    # Premultiplied resize, so the backdrop never bleeds into the inner shot's edge.
    rgba = inner.image.convert("RGB").crop(box)
    rgba.putalpha(mask.crop(box))
    small = rgba.convert("RGBa").resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0).convert("RGBA")
    x = (o_left + o_right) // 2 - round((neck_left + neck_right) / 2 * scale)
    y = o_top - max(1, round(0.02 * size[1]))
    # Only the opening's surroundings matter: the inner shot is clipped to them.
    height, width = opening.shape
    reach = 3
    region = (max(opening_box[0] - reach - 2, 0), max(opening_box[1] - reach - 2, 0))
    region_end = (min(opening_box[2] + reach + 2, width), min(opening_box[3] + reach + 2, height))
    canvas = Image.new("RGBA", (region_end[0] - region[0], region_end[1] - region[1]), (0, 0, 0, 0))
    canvas.paste(small, (x - region[0], y - region[1]))
    placed = np.asarray(canvas).astype(np.float32)
    hole = opening[region[1] : region_end[1], region[0] : region_end[0]]
    clip = soften(dilate(hole, reach).astype(np.float32))
    inner_alpha = placed[..., 3] / 255.0
    return _Placed(
        rgb=placed[..., :3],
        alpha=inner_alpha * clip,
        box=(region[0], region[1], region_end[0], region_end[1]),
        cover=float((inner_alpha[hole] >= 0.5).mean()),
    )
