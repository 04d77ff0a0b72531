"""A second opinion on the foreground, for photos shot on a plain studio backdrop.

The segmentation model's mask is checked against a mask made a completely
different way: a model of the backdrop as a studio lights it. Where the two
disagree on whole parts the cut-out is probably wrong (DESIGN.md, "quality").

What a studio backdrop is, and what this model knows of it:

- **A smooth surface, not one colour.** A sweep darkens towards the top, a lens
  vignettes the corners. The backdrop is fitted as a smooth (quadratic) surface
  per channel in log linear light, first over the frame of the photo, then over
  every pixel that fits it, so the gradient and the vignetting are backdrop.
- **A shadow is the backdrop, darker.** In linear light a shadow scales the
  backdrop's colour by one factor: same chromaticity, lower intensity. Pixels
  whose chromaticity differs from the backdrop's, or that are brighter, or darker
  than any shadow a studio casts, are the product.
- **The hard case cuts the other way.** A grey or white item is also darker with
  the backdrop's chromaticity. What separates it from a shadow is its boundary:
  a shadow's edge is soft and fades into the backdrop, an object's is a sharp
  step. Shadow-like regions are cut along sharp edges and each piece is judged
  by the edges it has towards the backdrop: mostly sharp → part of the product,
  mostly soft → shadow, mixed → *unsure*, left out of the comparison rather than
  guessed.

Where the backdrop is not plain (a lifestyle shot), `is_plain` is False and the
caller uses another second opinion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.feature import canny

# Enough detail for a mask that is compared, not published, and cheap on two cores.
WORKING_LONG_SIDE = 512
# The frame the first fit is made on, as a share of the short side.
BORDER = 0.04
# Residual (log intensity, 75th percentile over the frame) above which the
# backdrop is not a lit studio surface: about 10% unexplained brightness change.
MAX_SPREAD = 0.10

# Per-pixel limits, in log linear-light units, never tighter than these floors
# nor than six times the frame's typical (75th percentile) deviation.
_CHROMA_FLOOR = 0.06  # chromaticity change that is the product's colour, not noise
_SHADE_FLOOR = 0.04  # brightness change (about 4%) that is more than noise
# Fill light keeps a studio's shadows above about a sixth of the key light (2.6 stops,
# about 42% in sRGB values): darker than that is product.
_DEEPEST_SHADOW = float(np.log(1 / 6))
# An edge is a step when its gradient at scale 1 px is this many times its gradient
# at 3 px (an ideal step gives 3, a ramp wider than 3 px gives 1).
_SHARP_RATIO = 1.8
# A shadow-like piece with at least this share of its backdrop-facing boundary on
# sharp edges is an object; at most the lower share, a shadow; in between, unsure.
_OBJECT_EDGE_SHARE = 0.6
_SHADOW_EDGE_SHARE = 0.3
# Specks smaller than this share of the frame are noise, not objects.
_SPECK_SHARE = 0.0005


@dataclass(frozen=True)
class BackdropEstimate:
    color: tuple[int, int, int]  # the backdrop colour: per-channel median of the frame
    spread: float  # 75th percentile of the frame's residual from the fitted surface (log units)
    is_plain: bool
    mask: Image.Image | None  # "L" foreground (255 product) at the input size; None when not plain
    unsure: Image.Image | None  # "L" 255 where this model cannot tell product from shadow
    shadow: Image.Image | None  # "L" 255 where it sees a shadow on the backdrop


def estimate_backdrop(
    image: Image.Image, *, max_spread: float = MAX_SPREAD, full_size: bool = True
) -> BackdropEstimate:
    """Fit the backdrop of `image` and, when it is a plain studio surface, classify every
    pixel as product, shadow or unsure (see the module's docstring). The masks are at the
    input's size, or with `full_size=False` at the working size they were made at (a
    caller that compares them at that scale saves an upsampling and a downsampling)."""
    small = _working_copy(image)
    rgb = np.asarray(small, dtype=np.float32)
    frame = _frame(rgb.shape[:2])
    red, green, blue = (int(v) for v in np.median(rgb[frame], axis=0))
    color = (red, green, blue)

    log_light = np.log(np.maximum(_linear(rgb), 1 / 1024))
    residual = _fit_backdrop(log_light, frame)
    shade = residual.mean(axis=2)
    chroma = np.linalg.norm(residual - shade[..., None], axis=2)
    spread = float(np.percentile(np.abs(shade[frame]) + chroma[frame], 75))
    if spread > max_spread:
        return BackdropEstimate(color, spread, is_plain=False, mask=None, unsure=None, shadow=None)

    product, shadow, unsure = _classify(shade, chroma, frame)
    product = _without_specks(product)

    def as_mask(values: np.ndarray) -> Image.Image:
        mask = Image.fromarray(np.where(values, 255, 0).astype(np.uint8), mode="L")
        if not full_size or mask.size == image.size:
            return mask
        return mask.resize(image.size, Image.Resampling.BILINEAR)

    return BackdropEstimate(
        color,
        spread,
        is_plain=True,
        mask=as_mask(product),
        unsure=as_mask(unsure),
        shadow=as_mask(shadow),
    )


def _working_copy(image: Image.Image) -> Image.Image:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    scale = WORKING_LONG_SIDE / max(rgb.size)
    if scale >= 1:
        return rgb
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    # BOX averages whole source pixels, which also calms sensor and JPEG noise.
    return rgb.resize(size, Image.Resampling.BOX)


def _linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0–255 to linear light 0–1: shadows scale linear light, not sRGB values."""
    c = rgb / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _frame(shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    b = max(2, round(BORDER * min(height, width)))
    frame = np.zeros(shape, dtype=bool)
    frame[:b] = frame[-b:] = True
    frame[:, :b] = frame[:, -b:] = True
    return frame


def _surface_terms(shape: tuple[int, int]) -> np.ndarray:
    """1, x, y, x², xy, y² over the frame in -1..1: a sweep plus a vignette."""
    height, width = shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x = x / max(width - 1, 1) * 2 - 1
    y = y / max(height - 1, 1) * 2 - 1
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def _fit_surface(values: np.ndarray, terms: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Least-squares surface through `values` at `where`, refitted twice without the
    worst quarter so a product reaching the frame does not drag it towards its colour."""
    ys, xs = np.nonzero(where)
    step = max(1, ys.size // 20000)
    ys, xs = ys[::step], xs[::step]
    design, samples = terms[ys, xs], values[ys, xs]
    keep = np.ones(ys.size, dtype=bool)
    for _ in range(3):
        # Normal equations: six well-scaled terms (-1..1) keep them well conditioned, and
        # they cost a fraction of lstsq's SVD.
        kept = design[keep]
        try:
            coef = np.linalg.solve(kept.T @ kept, kept.T @ samples[keep])
        except np.linalg.LinAlgError:  # too few distinct samples (a tiny frame): lstsq copes
            coef, *_ = np.linalg.lstsq(kept, samples[keep], rcond=None)
        misfit = np.linalg.norm(samples - design @ coef, axis=1)
        keep = misfit <= np.percentile(misfit, 75)
    fitted: np.ndarray = terms @ coef
    return fitted


def _fit_backdrop(log_light: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Residual of every pixel from the fitted backdrop, in log light per channel.

    The first fit sees only the frame; the next ones every pixel that already fits,
    so the centre's vignetting and the sweep's curve are learnt where they are.
    """
    terms = _surface_terms(frame.shape)
    residual = log_light - _fit_surface(log_light, terms, frame)
    for _ in range(2):
        shade = residual.mean(axis=2)
        chroma = np.linalg.norm(residual - shade[..., None], axis=2)
        shade_noise = max(3 * float(np.percentile(np.abs(shade[frame]), 75)), 0.03)
        chroma_noise = max(3 * float(np.percentile(chroma[frame], 75)), 0.03)
        fits = (np.abs(shade) < shade_noise) & (chroma < chroma_noise)
        residual = log_light - _fit_surface(log_light, terms, fits | frame)
    result: np.ndarray = residual
    return result


def _classify(
    shade: np.ndarray, chroma: np.ndarray, frame: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(product, shadow, unsure) boolean maps from the residual's brightness and chromaticity."""
    # The frame's noise from its quietest three quarters: a product reaching the frame
    # (cut off, or simply large) must not pass for noise and raise the limits past itself.
    chroma_limit = max(_CHROMA_FLOOR, 6 * float(np.percentile(chroma[frame], 75)))
    shade_limit = max(_SHADE_FLOOR, 6 * float(np.percentile(np.abs(shade[frame]), 75)))
    # Noise in log light grows as the light falls (the same sensor noise on a smaller
    # signal), so a shadow's chromaticity is allowed to wander as far as it is dark.
    coloured = chroma > chroma_limit
    sure = coloured | (shade > shade_limit) | (shade < _DEEPEST_SHADOW)
    sure = ndimage.binary_opening(sure)  # isolated noisy pixels are not product
    shadow_like = (shade < -shade_limit) & ~sure
    backdrop = ~(sure | shadow_like)

    darkness = np.clip(-shade, 0.0, None)
    sharp = _sharp_edges(darkness, shade_limit)
    # Close small gaps so an object's outline separates it from its own shadow.
    outline = ndimage.binary_closing(sharp, np.ones((3, 3), bool), iterations=2) | sharp
    pieces_map = shadow_like & ~ndimage.binary_dilation(outline)
    # A piece stops 2 px short of its outline (the dilation above); its ring must reach
    # past the outline to the backdrop beyond.
    near_sharp = ndimage.binary_dilation(sharp, iterations=3)

    labels, count = ndimage.label(pieces_map)
    verdict = np.full(count + 1, 0.5)
    height, width = labels.shape
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        # The piece's box grown by the ring's width, so the ring is not clipped by it.
        window = (
            slice(max(box[0].start - 5, 0), min(box[0].stop + 5, height)),
            slice(max(box[1].start - 5, 0), min(box[1].stop + 5, width)),
        )
        piece = labels[window] == index
        ring = ndimage.binary_dilation(piece, iterations=4) & ~piece
        facing = ring & backdrop[window]
        if facing.sum() < 4:
            continue  # enclosed by the product: an inner face or an opening, unsure
        share = float((facing & near_sharp[window]).sum() / facing.sum())
        if share >= _OBJECT_EDGE_SHARE:
            verdict[index] = 1.0
        elif share <= _SHADOW_EDGE_SHARE:
            verdict[index] = 0.0
    judged = verdict[labels]
    # The sharp edges the pieces were cut along are an object's, except inside a shadow
    # (noise in a dark, flat shadow makes edges too): each takes its nearest piece's side.
    outline_pixels = shadow_like & ~pieces_map
    if count:
        _, (near_y, near_x) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
        in_shadow = outline_pixels & (verdict[labels[near_y, near_x]] == 0.0)
    else:
        in_shadow = np.zeros_like(outline_pixels)
    product = sure | (pieces_map & (judged == 1.0)) | (outline_pixels & ~in_shadow)
    shadow = (pieces_map & (judged == 0.0)) | in_shadow
    unsure = pieces_map & (judged == 0.5)
    return product, shadow, unsure


def _sharp_edges(darkness: np.ndarray, contrast: float) -> np.ndarray:
    """Edges of the darkness map that are steps rather than ramps."""
    edges = canny(darkness, sigma=1.0, low_threshold=contrast / 3, high_threshold=contrast / 1.5)
    fine = np.hypot(
        ndimage.gaussian_filter(darkness, 1.0, order=(0, 1)),
        ndimage.gaussian_filter(darkness, 1.0, order=(1, 0)),
    )
    coarse = np.hypot(
        ndimage.gaussian_filter(darkness, 3.0, order=(0, 1)),
        ndimage.gaussian_filter(darkness, 3.0, order=(1, 0)),
    )
    sharp: np.ndarray = edges & (fine > _SHARP_RATIO * np.maximum(coarse, 1e-6))
    return sharp


def _without_specks(product: np.ndarray) -> np.ndarray:
    """Drop specks and fill pinholes; larger enclosed holes stay (a handle's opening)."""
    speck = max(4, round(_SPECK_SHARE * product.size))
    labels, count = ndimage.label(product, structure=np.ones((3, 3), bool))
    if count:
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        sizes[0] = 0
        product = sizes[labels] >= speck
    holes, count = ndimage.label(~product)
    if count:
        sizes = np.bincount(holes.ravel(), minlength=count + 1)
        outside = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
        small = sizes < speck
        small[outside] = False
        small[0] = False
        product = product | small[holes]
    return product
