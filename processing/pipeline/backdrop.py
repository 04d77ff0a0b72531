"""A second opinion on the foreground, for photos shot on a plain studio backdrop.

The segmentation model's mask is checked against a mask made a completely
different way: a colour model of the backdrop, learnt from the frame of the
photo. Where the two disagree the cut-out is probably wrong (see DESIGN.md,
"quality"). The model is deliberately simple so that its failures are easy to
read: a product the colour of its backdrop is invisible to it, and it says so
by disagreeing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab

# Enough detail for a mask that is compared, not published, and cheap on two cores.
WORKING_LONG_SIDE = 512

# ΔE (CIE76) below which a pixel is backdrop whatever the border's noise; about
# twice a just-noticeable difference, so JPEG noise on a clean backdrop stays out.
_MIN_THRESHOLD = 4.0
# Width of the soft ramp from backdrop to foreground, in ΔE.
_MIN_RAMP = 8.0
# Specks and pinholes smaller than this share of the frame are noise, not objects.
_SPECK_SHARE = 0.0005


@dataclass(frozen=True)
class BackdropEstimate:
    color: tuple[int, int, int]  # the backdrop colour: per-channel median of the border
    spread: float  # 75th percentile of the border's ΔE from the backdrop model; lower = plainer
    is_plain: bool
    mask: Image.Image | None  # "L" foreground mask at the input size; None when not plain


def estimate_backdrop(
    image: Image.Image, *, border: float = 0.03, max_spread: float = 12.0
) -> BackdropEstimate:
    """Model the backdrop from a frame `border` (share of each side) wide and, when it is
    plain (spread <= max_spread), return a foreground mask by colour distance from it."""
    if not 0 < border < 0.5:
        raise ValueError(f"border must be between 0 and 0.5, not {border}")
    rgb = np.asarray(_working_copy(image))
    lab = rgb2lab(rgb).astype(np.float32)
    frame = _frame(lab.shape[:2], border)

    color = tuple(int(v) for v in np.median(rgb[frame], axis=0))
    backdrop = _fit_backdrop(lab, frame)
    distance = np.sqrt(((lab - backdrop) ** 2).sum(axis=2))
    # The 75th percentile, not a maximum: a cut-off product or a shadow may cover
    # up to a quarter of the frame without making a plain backdrop look busy.
    spread = float(np.percentile(distance[frame], 75))
    if spread > max_spread:
        return BackdropEstimate(color=color, spread=spread, is_plain=False, mask=None)

    alpha = _foreground(_shadow_tolerant(lab, backdrop), spread)
    mask = Image.fromarray(np.round(alpha * 255).astype(np.uint8), mode="L")
    if mask.size != image.size:
        mask = mask.resize(image.size, Image.Resampling.BILINEAR)
    return BackdropEstimate(color=color, spread=spread, is_plain=True, mask=mask)


def _working_copy(image: Image.Image) -> Image.Image:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    scale = WORKING_LONG_SIDE / max(rgb.size)
    if scale >= 1:
        return rgb
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    # BOX averages whole source pixels, which also calms sensor and JPEG noise.
    return rgb.resize(size, Image.Resampling.BOX)


def _frame(shape: tuple[int, int], border: float) -> np.ndarray:
    height, width = shape
    bh = max(1, round(height * border))
    bw = max(1, round(width * border))
    frame = np.zeros(shape, dtype=bool)
    frame[:bh] = frame[-bh:] = True
    frame[:, :bw] = frame[:, -bw:] = True
    return frame


def _fit_backdrop(lab: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """A plane per Lab channel over the frame, refitted without the worst quarter.

    A studio sweep is rarely one flat colour: light falls off towards one side.
    A plane absorbs that gradient, and the refit keeps a product that reaches the
    frame from dragging the plane towards its colour.
    """
    height, width = frame.shape
    ys, xs = np.nonzero(frame)
    design = np.column_stack(
        [np.ones(ys.size, np.float32), xs / max(width - 1, 1), ys / max(height - 1, 1)]
    ).astype(np.float32)
    samples = lab[ys, xs]
    keep = np.ones(ys.size, dtype=bool)
    for _ in range(2):
        coef, *_ = np.linalg.lstsq(design[keep], samples[keep], rcond=None)
        residual = np.sqrt(((samples - design @ coef) ** 2).sum(axis=1))
        keep = residual <= np.percentile(residual, 75)
    gx = np.linspace(0, 1, width, dtype=np.float32)
    gy = np.linspace(0, 1, height, dtype=np.float32)
    return coef[0] + gx[None, :, None] * coef[1] + gy[:, None, None] * coef[2]


# A soft contact shadow darkens the backdrop without changing its hue: up to this
# many L* units of darkening at the backdrop's own chroma count as backdrop.
# Measured on generated studio shots: the shadow alone pushed disagreement with
# the model to 0.03–0.12; without it the clean shots sat at 0.002–0.014.
SHADOW_LIGHTNESS = 22.0


def _shadow_tolerant(lab: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """Colour distance from the backdrop, forgiving darkening of its own hue."""
    d_lightness = lab[..., 0] - backdrop[..., 0]
    darker = np.clip(-d_lightness, 0.0, None)
    lightness = np.where(d_lightness < 0, np.clip(darker - SHADOW_LIGHTNESS, 0.0, None), d_lightness)
    chroma = ((lab[..., 1:] - backdrop[..., 1:]) ** 2).sum(axis=2)
    return np.sqrt(lightness**2 + chroma)


def _foreground(distance: np.ndarray, spread: float) -> np.ndarray:
    """Soft foreground (0..1) from the distance to the backdrop, with specks removed
    and pinholes filled. Larger enclosed holes are kept: they may be real openings
    (a handle, a strap) and the backdrop model cannot tell them from a mistake."""
    low = max(_MIN_THRESHOLD, 2.0 * spread)
    ramp = np.clip((distance - low) / max(_MIN_RAMP, 2.0 * spread), 0.0, 1.0)
    core = ramp >= 0.5
    speck = max(4, round(_SPECK_SHARE * core.size))

    labels, count = ndimage.label(core, structure=np.ones((3, 3), bool))
    if count:
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        sizes[0] = 0
        core = sizes[labels] >= speck

    holes, count = ndimage.label(~core)
    if count:
        sizes = np.bincount(holes.ravel(), minlength=count + 1)
        outside = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
        small = sizes < speck
        small[outside] = False
        small[0] = False
        pinholes = small[holes]
    else:
        pinholes = np.zeros_like(core)

    # The soft ramp is kept only next to what survived, so removed specks leave no haze.
    near = ndimage.binary_dilation(core, iterations=2)
    alpha = np.where(near, ramp, 0.0)
    alpha[pinholes] = 1.0
    return alpha.astype(np.float32)
