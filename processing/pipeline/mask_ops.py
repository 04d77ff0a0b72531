"""One-click mask fixes a reviewer can apply (review.mask_edit), as pure functions.

Every function takes a mask as a 2-D uint8 array (0 backdrop … 255 product, soft edges
allowed) and returns a new one of the same shape; none changes its input. A pixel counts
as product from `ON` up, the threshold the gate and compose use. Soft edges are kept
where a fix does not touch them.

Which quality reasons each fix answers is `FIXES_FOR_REASON`: the gate's reason codes
(processing.pipeline.quality) mapped to the fixes that can repair them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.segmentation import flood

ON = 128

# Reason code → the fixes offered for it, most likely first. "stronger_model" is not a
# mask operation: it reprocesses the photo with the stronger segmentation model.
FIXES_FOR_REASON: dict[str, tuple[str, ...]] = {
    "holes": ("fill_holes",),
    "fragmented_mask": ("keep_largest", "keep_clicked"),
    "shadow_included": ("drop_shadow",),
    "missing_part": ("grow_at", "stronger_model"),
    "backdrop_included": ("keep_largest", "stronger_model"),
}

# A colour grow that takes more than this share of the frame has leaked into the backdrop.
GROW_MAX_SHARE = 0.5
# How far (CIE ΔE) a pixel's colour may be from the clicked one to join a grow.
GROW_TOLERANCE = 12.0


class MaskOpError(ValueError):
    """The fix cannot apply here (nothing to keep, a click outside the photo…); the message says why."""


def _on(mask: np.ndarray) -> np.ndarray:
    if mask.ndim != 2:
        raise MaskOpError("A mask is one channel.")
    return mask >= ON


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Backdrop enclosed by product becomes product (a hole the model punched in a label).

    Only regions with no path to the frame's edge are filled: a gap between a mug's handle
    and body that opens to the backdrop is not a hole."""
    on = _on(mask)
    filled = ndimage.binary_fill_holes(on)
    out = mask.copy()
    out[filled & ~on] = 255
    return out


def _components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    # 8-connected: a product touching itself diagonally is one object.
    labels, count = ndimage.label(_on(mask), structure=np.ones((3, 3), dtype=bool))
    return labels, int(count)


def keep_largest(mask: np.ndarray) -> np.ndarray:
    """Only the largest object stays; specks and stray pieces of backdrop go."""
    labels, count = _components(mask)
    if count == 0:
        raise MaskOpError("The mask is empty: there is no object to keep.")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return _keep(mask, labels, {int(np.argmax(sizes))})


def keep_clicked(mask: np.ndarray, points: list[tuple[int, int]]) -> np.ndarray:
    """Only the objects under the reviewer's clicks stay. `points` are (x, y) mask pixels."""
    labels, count = _components(mask)
    height, width = mask.shape
    keep = set()
    for x, y in points:
        if 0 <= x < width and 0 <= y < height and labels[y, x]:
            keep.add(int(labels[y, x]))
    if not keep:
        raise MaskOpError("Click on an object of the cut-out to keep it.")
    return _keep(mask, labels, keep)


def _keep(mask: np.ndarray, labels: np.ndarray, keep: set[int]) -> np.ndarray:
    # Soft edge pixels (below ON) beside a kept object stay, those beside a dropped one go.
    kept = np.isin(labels, list(keep))
    near = ndimage.binary_dilation(kept, iterations=2)
    out = np.where(near, mask, 0).astype(np.uint8)
    out[(labels > 0) & ~kept] = 0
    return out


def drop_shadow(mask: np.ndarray, shadow: np.ndarray) -> np.ndarray:
    """Remove the cast or contact shadow the cut-out kept.

    `shadow` is a boolean map of where the photo shows a shadow on the backdrop (the
    studio backdrop model's, processing.pipeline.backdrop). Only shadow in the band under
    the product's body goes: the part of the mask below the highest shadow row that the
    mask covers, so a dark product's own shading higher up is never cut. What stays is
    then the largest object, so a sliver left at the shadow's edge does not survive."""
    on = _on(mask)
    if shadow.shape != mask.shape:
        raise MaskOpError("The shadow map and the mask differ in size.")
    kept_shadow = on & shadow
    if not kept_shadow.any():
        raise MaskOpError("No shadow found inside the cut-out.")
    rows = np.flatnonzero(on.any(axis=1))
    top, bottom = rows[0], rows[-1]
    # The band: the lower third of the product's height, where a floor shadow lies.
    band_top = top + (bottom - top) * 2 // 3
    band = np.zeros_like(on)
    band[band_top:, :] = True
    out = mask.copy()
    out[kept_shadow & band] = 0
    if not _on(out).any():
        raise MaskOpError("Dropping the shadow would leave nothing.")
    return keep_largest(out)


def grow_at(
    mask: np.ndarray,
    rgb: np.ndarray,
    point: tuple[int, int],
    *,
    tolerance: float = GROW_TOLERANCE,
) -> np.ndarray:
    """Add the region around `point` (x, y) whose colour is close to the clicked pixel's
    (a flood fill in CIE Lab, ΔE <= `tolerance`), e.g. a handle the model dropped.

    `rgb` is the photo at the mask's size (H × W × 3, uint8). Refused when the region
    spreads over more than GROW_MAX_SHARE of the frame: it has leaked into the backdrop."""
    height, width = mask.shape
    if rgb.shape[:2] != mask.shape:
        raise MaskOpError("The photo and the mask differ in size.")
    x, y = point
    if not (0 <= x < width and 0 <= y < height):
        raise MaskOpError("Click inside the photo.")
    lab = rgb2lab(rgb).astype(np.float32)
    distance = np.linalg.norm(lab - lab[y, x], axis=2)
    region = flood(distance, (y, x), tolerance=tolerance)
    if region.mean() > GROW_MAX_SHARE:
        raise MaskOpError("That colour runs into the backdrop; paint the part with the brush instead.")
    # Close the region's pinholes (texture, JPEG noise) so the part comes back whole.
    region = ndimage.binary_closing(region, iterations=2) | region
    region = ndimage.binary_fill_holes(region)
    out = mask.copy()
    out[region] = 255
    return out
