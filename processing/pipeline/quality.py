"""Measure a cut-out, score it 0–100 and say in plain words what looks wrong.

Score starts at 100 and each reason takes off its penalty. A reason's penalty
grows from `base` just past its limit to `full` at twice the limit (or worse),
so a marginal signal costs little and a gross one costs a lot. Some reasons are
blocking: the image goes to a reviewer whatever the score.

The weights follow what was measured (DESIGN.md, "quality"): the disagreement
between the model's mask and an independent second opinion tracks the true
error far better (ROC AUC ~0.9) than statistics of one mask alone (~0.7), so
disagreement alone fails an image while one single-mask statistic alone does not.

Disagreement is weighed by where it lies. A band along the cut-out's edge is
where any two masks differ by a few pixels (anti-aliasing, a hair of contact
shadow); it is recorded but never fails an image. Outside it, what the
cut-out leaves out or takes in comes in whole pieces, and a piece is an error
a shopper sees: the limit is a share of the product's area, set by what a good
cut-out means. A cut-out is good at IoU >= 0.9, and a part of 10% of the product
lost or added alone brings IoU to about 0.9, so `part_error_max` is 0.10 and a
part over twice that (IoU below about 0.8, a bad cut-out) blocks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.feature import canny

from processing.pipeline.compose import product_bbox, touching_edges

# Signals are measured at a fixed scale so that thresholds (blur above all) mean
# the same for a 6000 px original and its 1024 px working copy.
WORKING_LONG_SIDE = 1024
# The colour comparison is made on a coarse grid: robust to sub-pixel misalignment
# between source and master, and to texture, while still catching a colour cast.
_COLOUR_GRID = 128


@dataclass(frozen=True)
class Thresholds:
    pass_score: int = 70  # score >= pass_score and no blocking reason → pass
    min_long_side: int = 1000  # source long side below this → low_resolution
    uncertain_share_max: float = 0.08  # share of product-area pixels with alpha in (32, 223)
    fragments_max: int = 3  # components beyond the largest bigger than 0.1% of the image
    holes_share_max: float = 0.02  # enclosed background as a share of the product area
    coverage_min: float = 0.02  # product area / image area
    coverage_max: float = 0.92
    # How wide the product's sharpest edges are (Gaussian sigma, px at the working scale):
    # a focused lens and JPEG give under 1 px, 2 px and more reads as soft at 1000 px.
    edge_width_max: float = 2.0
    clipped_share_max: float = 0.05  # share of product pixels clipped black or white in luma
    # A part the cut-out leaves out or takes in, beyond the edge band, as a share of the
    # product's area (see the module docstring for why 0.10).
    part_error_max: float = 0.10
    colour_shift_max: float = 6.0  # mean ΔE (CIE76) between source and master in the product

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Thresholds:
        """Thresholds from settings or a profile: None keeps the default; an unknown key,
        a value of the wrong type or a negative value raises ValueError naming the key."""
        known = {f.name: type(f.default) for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in RETIRED_THRESHOLDS:
                raise ValueError(f"quality threshold {key!r} {RETIRED_THRESHOLDS[key]}")
            if key not in known:
                raise ValueError(f"unknown quality threshold {key!r}")
            if value is None:
                continue
            expected = known[key]
            # bool is an int to Python, never to a person editing thresholds.
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"quality threshold {key!r} must be a number, not {value!r}")
            if expected is int and not isinstance(value, int):
                raise ValueError(f"quality threshold {key!r} must be a whole number, not {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"quality threshold {key!r} must be zero or more, not {value!r}")
            values[key] = int(value) if expected is int else float(value)
        if values.get("pass_score", 0) > 100:
            raise ValueError("quality threshold 'pass_score' must be at most 100")
        return cls(**values)


DEFAULT_THRESHOLDS = Thresholds()

# Thresholds whose signal was replaced: a stored value would mean something else now.
RETIRED_THRESHOLDS = {
    "disagreement_max": "was replaced by 'part_error_max' (a lost or added part, as a share of the product)",
    "blur_min": "was replaced by 'edge_width_max' (the width of the sharpest edges, in px)",
}


@dataclass(frozen=True)
class SecondOpinion:
    """An independent estimate of the foreground (any size, same framing), with the
    regions it cannot judge (`unsure`, left out of the comparison) and the shadow it
    saw (a cut-out that keeps it is told so, mildly)."""

    foreground: Image.Image
    unsure: Image.Image | None = None
    shadow: Image.Image | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    message: str  # plain words for a reviewer
    value: float | None
    limit: float | None
    penalty: int  # points taken off 100
    blocking: bool  # True → flagged whatever the score


@dataclass(frozen=True)
class QualityReport:
    score: int  # 0..100
    reasons: tuple[Reason, ...]
    signals: dict[str, float]  # every measured signal, by name, for the record
    passed: bool

    def reasons_json(self) -> list[dict[str, Any]]:
        return [
            {"code": r.code, "message": r.message, "value": r.value, "limit": r.limit} for r in self.reasons
        ]


# code: (base, full) penalty. Blocking is decided per reason in `assess`:
# - empty_mask: there is nothing to publish.
# - cut_off: no amount of good signal elsewhere brings back the missing part.
# - mask_disagreement beyond twice its limit: the strongest predictor of a wrong
#   cut-out, and that far out it is almost never a false alarm.
PENALTIES: dict[str, tuple[int, int]] = {
    "empty_mask": (100, 100),
    "cut_off": (40, 40),
    # Either alone fails an image (35 > 100 - pass_score); beyond twice the limit it blocks.
    "missing_part": (35, 60),
    "backdrop_included": (35, 60),
    "low_resolution": (35, 50),
    "tiny_product": (35, 50),
    "implausible_coverage": (35, 50),
    "colour_shift": (35, 50),
    # Edge width is measured, not guessed from texture: out of focus fails on its own.
    "blurry": (35, 50),
    "exposure": (15, 35),
    # Single-mask statistics separate good from bad poorly on their own. Since
    # disagreement weighs whole parts, none of these fails an image alone
    # (25 < 100 - pass_score): they add up with each other and with the rest.
    "uncertain_edges": (10, 25),
    "fragmented_mask": (10, 25),
    # Real openings (a mug's handle) are holes too.
    "holes": (10, 25),
    # A kept shadow is visible but often acceptable: told, never failing on its own.
    "shadow_included": (10, 25),
}


def assess(
    image: Image.Image,
    mask: Image.Image,
    *,
    original_size: tuple[int, int] | None = None,
    second_mask: Image.Image | SecondOpinion | None = None,
    master: Image.Image | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    comparison: MaskComparison | None = None,
) -> QualityReport:
    """Score the cut-out of `image` by `mask` ("L", same size).

    `original_size` is the full-resolution size when `image` is a working copy;
    `second_mask` an independent foreground estimate (any size, same framing), or a
    SecondOpinion that also says where it is unsure and where it saw a shadow;
    `master` the composed "RGBA" master, compared with the source for colour shift;
    `comparison` what `compare_masks` already said of this mask and opinion, if known.
    """
    if mask.mode != "L":
        raise ValueError(f"mask must be an 'L' image, not {mask.mode!r}")
    if mask.size != image.size:
        raise ValueError(f"mask size {mask.size} differs from image size {image.size}")
    t = thresholds
    reasons: list[Reason] = []
    long_side = float(max(original_size or image.size))
    signals: dict[str, float] = {"long_side": long_side}

    if long_side < t.min_long_side:
        reasons.append(
            _reason(
                "low_resolution",
                f"The photo is {long_side:.0f} px on its longest side, below the "
                f"{t.min_long_side} px minimum, so it would have to be enlarged.",
                long_side,
                t.min_long_side,
                severity=_below(long_side, t.min_long_side),
            )
        )

    rgb, alpha = _working_copy(image, mask)
    fg = alpha >= 128
    area = int(fg.sum())
    signals["coverage"] = area / fg.size
    if area == 0:
        penalty = PENALTIES["empty_mask"][0]
        reasons.append(Reason("empty_mask", "No product was found in the photo.", 0.0, None, penalty, True))
        return _report(reasons, signals, t)

    opinion = _as_opinion(second_mask) if second_mask is not None else None
    other = _boolean(opinion.foreground, fg.shape) if opinion is not None else None
    _measure_mask(alpha, fg, signals, reasons, t, other)
    _measure_photo(rgb, alpha, fg, signals, reasons, t)
    if opinion is not None:
        comparison = comparison or compare_masks(mask, opinion, image)
        _measure_disagreement(comparison, signals, reasons, t)
    if master is not None:
        _measure_colour_shift(rgb, alpha, master, signals, reasons, t)
    return _report(reasons, signals, t)


def _report(reasons: list[Reason], signals: dict[str, float], t: Thresholds) -> QualityReport:
    score = max(0, min(100, 100 - sum(r.penalty for r in reasons)))
    passed = score >= t.pass_score and not any(r.blocking for r in reasons)
    return QualityReport(score=score, reasons=tuple(reasons), signals=signals, passed=passed)


def _reason(
    code: str,
    message: str,
    value: float,
    limit: float,
    *,
    severity: float,
    blocking: bool = False,
) -> Reason:
    base, full = PENALTIES[code]
    penalty = round(base + (full - base) * min(max(severity - 1.0, 0.0), 1.0))
    return Reason(code, message, float(value), float(limit), penalty, blocking)


def _above(value: float, limit: float) -> float:
    """How many times the limit a too-high value is (1 = at the limit)."""
    return value / limit if limit > 0 else math.inf


def _below(value: float, limit: float) -> float:
    """How many times too small a too-low value is (1 = at the limit)."""
    return limit / value if value > 0 else math.inf


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%" if share < 0.1 else f"{share * 100:.0f}%"


def _working_copy(image: Image.Image, mask: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    scale = WORKING_LONG_SIDE / max(rgb.size)
    if scale < 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BOX)
        mask = mask.resize(size, Image.Resampling.BOX)
    return np.asarray(rgb), np.asarray(mask)


def _measure_mask(
    alpha: np.ndarray,
    fg: np.ndarray,
    signals: dict[str, float],
    reasons: list[Reason],
    t: Thresholds,
    other: np.ndarray | None = None,
) -> None:
    coverage = signals["coverage"]

    touched = touching_edges(fg)
    signals["edge_contact"] = max(touched.values(), default=0.0)
    if touched:
        names = list(touched)
        edges = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        noun = "edge" if len(names) == 1 else "edges"
        reasons.append(
            Reason(
                "cut_off",
                f"The product touches the {edges} {noun} of the photo, so part of it may be cut off.",
                signals["edge_contact"],
                None,
                PENALTIES["cut_off"][0],
                True,
            )
        )

    if coverage < t.coverage_min:
        reasons.append(
            _reason(
                "tiny_product",
                f"The product fills only {_percent(coverage)} of the photo; "
                "it may be a small detail or the wrong object.",
                coverage,
                t.coverage_min,
                severity=_below(coverage, t.coverage_min),
            )
        )
    elif coverage > t.coverage_max:
        reasons.append(
            _reason(
                "implausible_coverage",
                f"The cut-out covers {_percent(coverage)} of the photo; "
                "it has probably taken in the backdrop.",
                coverage,
                t.coverage_max,
                # Measured by how little backdrop is left: 96% is twice as bad as 92%.
                severity=_below(1.0 - coverage, 1.0 - t.coverage_max),
            )
        )

    # Out of every pixel the mask gives any real weight, so the share stays within 0..1.
    weighted = alpha > 32
    uncertain = float((weighted & (alpha < 223)).sum() / weighted.sum())
    signals["uncertain_share"] = uncertain
    if uncertain > t.uncertain_share_max:
        reasons.append(
            _reason(
                "uncertain_edges",
                f"{_percent(uncertain)} of the cut-out is half-transparent, "
                "so the model was unsure where the product ends.",
                uncertain,
                t.uncertain_share_max,
                severity=_above(uncertain, t.uncertain_share_max),
            )
        )

    labels, count = ndimage.label(fg, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    sizes = np.sort(sizes)[::-1]
    fragments = int((sizes[1:] > 0.001 * fg.size).sum())
    signals["fragments"] = float(fragments)
    if fragments > t.fragments_max:
        reasons.append(
            _reason(
                "fragmented_mask",
                f"The cut-out has {fragments} separate pieces besides the product; "
                "some are probably bits of the background.",
                fragments,
                t.fragments_max,
                severity=_above(fragments, t.fragments_max),
            )
        )

    filled = ndimage.binary_fill_holes(fg)
    holes = filled & ~fg
    if other is not None:
        # An opening the independent mask also sees through (a mug's handle) is real.
        holes &= other
    holes_share = float(holes.sum() / filled.sum())
    signals["holes_share"] = holes_share
    if holes_share > t.holes_share_max:
        reasons.append(
            _reason(
                "holes",
                f"The cut-out has holes covering {_percent(holes_share)} of the product; "
                "check that they are real openings.",
                holes_share,
                t.holes_share_max,
                severity=_above(holes_share, t.holes_share_max),
            )
        )


def _measure_photo(
    rgb: np.ndarray,
    alpha: np.ndarray,
    fg: np.ndarray,
    signals: dict[str, float],
    reasons: list[Reason],
    t: Thresholds,
) -> None:
    grey = np.asarray(Image.fromarray(rgb).convert("L"))

    width = _edge_width(grey, fg)
    if width is not None:
        signals["edge_width"] = width
        if width > t.edge_width_max:
            reasons.append(
                _reason(
                    "blurry",
                    f"The product looks out of focus: its sharpest edges are {width:.1f} px wide "
                    f"(a sharp photo's are under {t.edge_width_max:.1f} px).",
                    width,
                    t.edge_width_max,
                    severity=_above(width, t.edge_width_max),
                )
            )

    # The solid inside only: the edge mixes in the backdrop, often pure white.
    inside = ndimage.binary_erosion(alpha >= 224, iterations=1)
    if not inside.any():
        inside = fg
    # A highlight blown in two channels loses detail even when luma is not at the limit
    # (a yellow product washed out); one clipped channel alone is often a legitimately
    # saturated colour, and crushed shadows are judged on luma for the same reason.
    # JPEG ringing keeps a blown highlight from sitting exactly at 255, hence the margin.
    blown = _blown(rgb[inside])
    crushed = grey[inside] <= 1
    backdrop_blown = _backdrop_blown_share(rgb, grey, fg)
    signals["backdrop_clipped_share"] = backdrop_blown
    if backdrop_blown < 0.5:
        # The backdrop beside the product keeps its tone, so the photo is exposed right
        # and a blown product is white (a white mouse on a grey sweep): over-exposure
        # clips a light backdrop, lit as bright as the product, before the product.
        blown = np.zeros_like(blown)
    clipped = float((blown | crushed).mean())
    signals["clipped_share"] = clipped
    if clipped > t.clipped_share_max:
        reasons.append(
            _reason(
                "exposure",
                f"{_percent(clipped)} of the product is blown out to white or crushed "
                "to black, so its detail is lost.",
                clipped,
                t.clipped_share_max,
                severity=_above(clipped, t.clipped_share_max),
            )
        )


def _blown(pixels: np.ndarray) -> np.ndarray:
    return np.asarray((pixels >= 254).sum(axis=1) >= 2)


# The band of backdrop beside the product the exposure is judged against, in working px,
# read at every 4th pixel (the tone of a sweep needs no more).
_EXPOSURE_RING = (4, 24)
_RING_STRIDE = 4


def _backdrop_blown_share(rgb: np.ndarray, grey: np.ndarray, fg: np.ndarray) -> float:
    """Share of the backdrop just around the product that is blown out; 1.0 when there
    is no light backdrop to judge by (a dark or busy scene: the product alone decides)."""
    step = _RING_STRIDE
    fg, grey, rgb = fg[::step, ::step], grey[::step, ::step], rgb[::step, ::step]
    inner, outer = (2 * (width // step) + 1 for width in _EXPOSURE_RING)
    ring = ndimage.maximum_filter(fg, size=outer) & ~ndimage.maximum_filter(fg, size=inner)
    if ring.sum() < 50 or float(np.median(grey[ring])) < 200:
        return 1.0
    return float(_blown(rgb[ring]).mean())


# Fewer edges than this on the product and focus is not judged (a plain, tiny object).
_MIN_EDGE_PIXELS = 20


def _edge_width(grey: np.ndarray, fg: np.ndarray) -> float | None:
    """The width (Gaussian sigma, px) of the sharpest edges on and around the product.

    Texture varies from product to product, sharpness does not: a step edge blurred
    by sigma s has a gradient at scale 1 px that is sqrt((s²+9)/(s²+1)) times its
    gradient at scale 3 px, whatever its contrast. The 90th percentile of that ratio
    over the product's edges (focus is where the sharpest edges are) gives s.
    """
    # Only the product's neighbourhood matters: filter its box, not the whole frame.
    ys, xs = np.nonzero(fg)
    top, left = max(int(ys.min()) - 12, 0), max(int(xs.min()) - 12, 0)
    window = (slice(top, int(ys.max()) + 13), slice(left, int(xs.max()) + 13))
    image = grey[window].astype(np.float32)
    region = ndimage.binary_dilation(fg[window], iterations=3)
    fine = ndimage.gaussian_gradient_magnitude(image, 1.0)
    coarse = ndimage.gaussian_gradient_magnitude(image, 3.0)
    edges = canny(image, sigma=1.0, low_threshold=4, high_threshold=8) & region & (fine > 6)
    if int(edges.sum()) < _MIN_EDGE_PIXELS:
        return None
    ratio = float(np.percentile(fine[edges] / np.maximum(coarse[edges], 1e-3), 90))
    return math.sqrt(max(9.0 - ratio**2, 0.0) / max(ratio**2 - 1.0, 1e-6))


def _as_opinion(second: Image.Image | SecondOpinion) -> SecondOpinion:
    return second if isinstance(second, SecondOpinion) else SecondOpinion(foreground=second)


def _compare_shape(mask: Image.Image) -> tuple[int, int]:
    """(height, width) masks are compared at: at most COMPARE_LONG_SIDE on the long side."""
    scale = min(1.0, COMPARE_LONG_SIDE / max(mask.size))
    return (max(1, round(mask.height * scale)), max(1, round(mask.width * scale)))


def _boolean(mask: Image.Image, shape: tuple[int, int]) -> np.ndarray:
    """`mask` at `shape` (height, width) as booleans, foreground at 128 and above."""
    mask = mask if mask.mode == "L" else mask.convert("L")
    height, width = shape
    if mask.size != (width, height):
        # reducing_gap: a 3000 px mask is first shrunk by an integer factor, far cheaper.
        mask = mask.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(mask) >= 128


# Masks are compared at the second opinion's own detail: finer adds nothing to it.
COMPARE_LONG_SIDE = 512
# The edge band's half-width: 1.5% of the product's size (the square root of its
# area), at least 2 px at the comparison scale.
_BAND_SHARE = 0.015
# Pieces smaller than this share of the product are edge noise, not parts.
_MIN_PART_SHARE = 0.002


@dataclass(frozen=True)
class MaskComparison:
    """How a cut-out differs from a second opinion, as shares of the product's area."""

    missing: float  # parts the second opinion sees as product and the cut-out leaves out
    added: float  # parts the cut-out takes in where the second opinion sees plain backdrop
    shadow: float  # parts the cut-out takes in where the second opinion sees a shadow
    edge: float  # share of the edge band where the two differ
    missing_at: str  # where the largest missing part lies ("" when none)
    added_at: str

    @property
    def part_error(self) -> float:
        """The larger of the two errors that fail a cut-out (a kept shadow does not)."""
        return max(self.missing, self.added)


def compare_masks(
    mask: Image.Image, opinion: SecondOpinion, image: Image.Image | None = None
) -> MaskComparison:
    """Weigh where `mask` ("L") and the second opinion disagree: in the edge band, or in
    whole parts left out or taken in. Unsure regions of the opinion are left out.

    Backdrop the opinion sees enclosed by product is not judged either. With the photo
    (`image`, same framing), a part the cut-out takes in where the
    opinion sees backdrop is left out too when the cut-out's outline around it runs
    along edges in the photo: a white product on a white sweep is the backdrop's colour,
    but it still has an outline, and a patch of backdrop taken in by mistake has none.
    """
    shape = _compare_shape(mask)
    ours = _boolean(mask, shape)
    other = _boolean(opinion.foreground, shape)
    unsure = _boolean(opinion.unsure, shape) if opinion.unsure is not None else np.zeros(shape, bool)
    shadow = _boolean(opinion.shadow, shape) if opinion.shadow is not None else np.zeros(shape, bool)
    area = int(ours.sum())
    if area == 0:
        return MaskComparison(1.0 if other.any() else 0.0, 0.0, 0.0, 0.0, "", "")

    radius = max(2, round(_BAND_SHARE * math.sqrt(area)))
    outline = ours ^ ndimage.binary_erosion(ours)
    # Within `radius` steps of the outline (chessboard distance, as `radius` dilations with
    # the 3×3 square would give), in one pass.
    band = ndimage.distance_transform_cdt(~outline, metric="chessboard") <= radius
    judged = ~unsure & ~band
    missing, missing_at = _parts(other & ~ours & judged, ours, area)
    # Backdrop the opinion sees enclosed by its own product is an opening or a face the
    # backdrop's colour (a white cover): it cannot tell which, so it is not judged.
    enclosed = ndimage.binary_fill_holes(other) & ~other
    added_pixels = ours & ~other & ~shadow & ~enclosed & judged
    if image is not None and added_pixels.any():
        added_pixels &= ~_outlined(added_pixels, ours, outline, radius, _photo_edges(image, shape))
    added, added_at = _parts(added_pixels, ours, area)
    kept_shadow, _ = _parts(ours & shadow & ~other & judged, ours, area)
    edge_judged = band & ~unsure
    edge = float(((ours ^ other) & edge_judged).sum() / max(int(edge_judged.sum()), 1))
    return MaskComparison(missing, added, kept_shadow, edge, missing_at, added_at)


@dataclass(frozen=True)
class FilledParts:
    """A cut-out with the parts it missed put back (see `fill_missing_parts`)."""

    mask: Image.Image  # "L", the input mask's size
    share: float  # area put back, as a share of the cut-out's area before
    where: str  # where the largest piece lies ("at the top left")


# A missed piece is put back only when at least this share of the product (smaller ones
# are the edge band's business) and no farther from the cut-out than this share of the
# product's size (the square root of its area): beside it, as the items of a set lie.
_FILL_MIN_SHARE = 0.01
_FILL_REACH_SHARE = 0.15


def fill_missing_parts(mask: Image.Image, opinion: SecondOpinion, image: Image.Image) -> FilledParts | None:
    """The cut-out with the whole parts it left out put back, or None when there are none
    to put back with confidence.

    For a studio backdrop's opinion only: on a plain sweep whatever is not backdrop is
    the product, so a part the backdrop model sees as product (never shadow, never
    unsure) that lies beside the cut-out, and whose outline towards the backdrop follows
    edges in the photo (a real object's boundary, not a soft shadow's), is a part the
    segmentation model missed: a second item of a set, a flat grey card beside a bottle.
    The piece keeps the opinion's detail (its working scale), upsampled once."""
    shape = _compare_shape(mask)
    ours = _boolean(mask, shape)
    area = int(ours.sum())
    if area == 0:
        return None
    other = _boolean(opinion.foreground, shape)
    unsure = _boolean(opinion.unsure, shape) if opinion.unsure is not None else np.zeros_like(ours)
    shadow = _boolean(opinion.shadow, shape) if opinion.shadow is not None else np.zeros_like(ours)
    candidates = other & ~ours & ~unsure & ~shadow
    backdrop = ~other & ~unsure
    # Within reach of a piece's edge once the opening has trimmed it.
    near_backdrop = ndimage.binary_dilation(backdrop, iterations=3)
    pieces = ndimage.binary_opening(candidates, iterations=2)
    labels, count = ndimage.label(pieces)
    if not count:
        return None
    joined = ndimage.binary_dilation(ours, iterations=max(2, round(_BAND_SHARE * math.sqrt(area))) + 1)
    beside = ndimage.distance_transform_cdt(~ours, metric="chessboard") <= _FILL_REACH_SHARE * math.sqrt(area)
    edges = _photo_edges(image, shape)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = np.zeros(count + 1, dtype=bool)
    for index in range(1, count + 1):
        if sizes[index] < _FILL_MIN_SHARE * area:
            continue
        piece = labels == index
        if not (piece & beside).any():
            continue
        # The piece's own boundary where it faces the backdrop (shadow included): not where
        # it joins the cut-out, nor where it meets what the opinion is unsure of, which is
        # no outline at all (a keyboard's keys inside a laptop).
        boundary = piece & ~ndimage.binary_erosion(piece) & ~joined & near_backdrop
        if boundary.sum() >= 8 and float(edges[boundary].mean()) >= _OUTLINED_SHARE:
            keep[index] = True
    if not keep.any():
        return None
    added = keep[labels]
    largest = int(np.argmax(np.where(keep, sizes, 0)))
    piece_mask = Image.fromarray(np.where(added, 255, 0).astype(np.uint8), mode="L")
    if piece_mask.size != mask.size:
        piece_mask = piece_mask.resize(mask.size, Image.Resampling.BILINEAR)
    filled = np.maximum(np.asarray(mask.convert("L")), np.asarray(piece_mask))
    return FilledParts(
        mask=Image.fromarray(filled, mode="L"),
        share=float(added.sum() / area),
        where=_where(labels == largest, ours),
    )


# An added piece whose stretch of the cut-out's outline lies this much on edges in the
# photo is a product the backdrop's colour, not a patch of backdrop.
_OUTLINED_SHARE = 0.5


def _photo_edges(image: Image.Image, shape: tuple[int, int]) -> np.ndarray:
    """Edges of the photo at the comparison scale, grown by 2 px to meet a mask's outline.
    The thresholds sit well above the photo's own noise: the median gradient, which on
    a product shot is that of the plain backdrop."""
    height, width = shape
    grey = image.convert("L")
    if grey.size != (width, height):
        grey = grey.resize((width, height), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float32)
    # Measured as canny measures (Sobel of the smoothed image), so the units agree.
    smoothed = ndimage.gaussian_filter(pixels, 1.0)
    noise = float(np.median(np.hypot(ndimage.sobel(smoothed, 0), ndimage.sobel(smoothed, 1))))
    low = max(4.0, 3 * noise)
    edges = canny(pixels, sigma=1.0, low_threshold=low, high_threshold=2 * low)
    grown: np.ndarray = ndimage.binary_dilation(edges, iterations=2)
    return grown


def _outlined(
    added: np.ndarray, ours: np.ndarray, outline: np.ndarray, radius: int, edges: np.ndarray
) -> np.ndarray:
    """The pieces of `added` whose own stretch of the cut-out's outline follows photo edges."""
    pieces = ndimage.binary_opening(added)
    labels, count = ndimage.label(pieces)
    keep = np.zeros(count + 1, dtype=bool)
    reach = radius + 2
    height, width = labels.shape
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        window = (
            slice(max(box[0].start - reach - 1, 0), min(box[0].stop + reach + 1, height)),
            slice(max(box[1].start - reach - 1, 0), min(box[1].stop + reach + 1, width)),
        )
        piece = labels[window] == index
        # The outline the piece reaches across the edge band; where it borders what both
        # masks agree on, there is no outline to check.
        stretch = outline[window] & ndimage.binary_dilation(piece, iterations=reach)
        if stretch.sum() >= 8:
            keep[index] = float(edges[window][stretch].mean()) >= _OUTLINED_SHARE
    outlined: np.ndarray = keep[labels]
    return outlined


def _parts(difference: np.ndarray, ours: np.ndarray, area: int) -> tuple[float, str]:
    """Total area of the pieces of `difference` big enough to be parts, as a share of
    `area`, and where the largest lies relative to the product."""
    pieces = ndimage.binary_opening(difference)  # slivers along an edge are not parts
    labels, count = ndimage.label(pieces)
    if not count:
        return 0.0, ""
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    big = sizes >= _MIN_PART_SHARE * area
    if not big.any():
        return 0.0, ""
    largest = int(np.argmax(sizes)) + 1
    return float(sizes[big].sum() / area), _where(labels == largest, ours)


def _where(piece: np.ndarray, ours: np.ndarray) -> str:
    """ "at the top", "at the bottom left"… of the product (or beside it)."""
    ys, xs = np.nonzero(ours)
    py, px = ndimage.center_of_mass(piece)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    fy = (py - top) / max(bottom - top, 1)
    fx = (px - left) / max(right - left, 1)
    vertical = "top" if fy < 1 / 3 else "bottom" if fy > 2 / 3 else ""
    horizontal = "left" if fx < 1 / 3 else "right" if fx > 2 / 3 else ""
    side = " ".join(part for part in (vertical, horizontal) if part)
    return f"at the {side}" if side else "in the middle"


def _measure_disagreement(
    comparison: MaskComparison,
    signals: dict[str, float],
    reasons: list[Reason],
    t: Thresholds,
) -> None:
    signals["part_missing"] = comparison.missing
    signals["part_added"] = comparison.added
    signals["shadow_kept"] = comparison.shadow
    signals["edge_disagreement"] = comparison.edge
    limit = t.part_error_max
    if comparison.missing > limit:
        severity = _above(comparison.missing, limit)
        reasons.append(
            _reason(
                "missing_part",
                f"The cut-out leaves out part of the product {comparison.missing_at}: a piece about "
                f"{_percent(comparison.missing)} of its size, that a second look at the photo "
                "sees as product.",
                comparison.missing,
                limit,
                severity=severity,
                blocking=bool(severity > 2.0),
            )
        )
    if comparison.added > limit:
        severity = _above(comparison.added, limit)
        reasons.append(
            _reason(
                "backdrop_included",
                f"The cut-out takes in a patch of backdrop {comparison.added_at}, about "
                f"{_percent(comparison.added)} of the product's size.",
                comparison.added,
                limit,
                severity=severity,
                blocking=bool(severity > 2.0),
            )
        )
    if comparison.shadow > limit:
        reasons.append(
            _reason(
                "shadow_included",
                f"The cut-out keeps part of the product's shadow (about {_percent(comparison.shadow)} "
                "of its size); it will show on the new background.",
                comparison.shadow,
                limit,
                severity=_above(comparison.shadow, limit),
            )
        )


def _measure_colour_shift(
    rgb: np.ndarray,
    alpha: np.ndarray,
    master: Image.Image,
    signals: dict[str, float],
    reasons: list[Reason],
    t: Thresholds,
) -> None:
    """Mean ΔE between source and master over the product's solid inside.

    The two are aligned by their product bounding boxes, so a master made at full
    resolution compares with a working copy of the source.
    """
    master = master if master.mode == "RGBA" else master.convert("RGBA")
    source_box = product_bbox(Image.fromarray(alpha))
    master_box = product_bbox(master.getchannel("A"))
    if source_box is None or master_box is None:
        return
    box_w, box_h = source_box[2] - source_box[0], source_box[3] - source_box[1]
    grid_scale = min(1.0, _COLOUR_GRID / max(box_w, box_h))
    grid = (max(1, round(box_w * grid_scale)), max(1, round(box_h * grid_scale)))
    source = Image.fromarray(rgb).crop(source_box).resize(grid, Image.Resampling.BOX)
    # BOX averages whole pixels, so a cell at alpha 255 holds only opaque product colour.
    output = master.crop(master_box).resize(grid, Image.Resampling.BOX)
    cells = np.asarray(output)
    solid = cells[..., 3] == 255
    if not solid.any():
        return
    source_lab = rgb2lab(np.asarray(source)[solid][None])[0]
    output_lab = rgb2lab(cells[..., :3][solid][None])[0]
    shift = float(np.sqrt(((source_lab - output_lab) ** 2).sum(axis=1)).mean())
    signals["colour_shift"] = shift
    if shift > t.colour_shift_max:
        reasons.append(
            _reason(
                "colour_shift",
                f"The product's colours changed in the cut-out (average difference "
                f"{shift:.1f} ΔE, limit {t.colour_shift_max:.1f}).",
                shift,
                t.colour_shift_max,
                severity=_above(shift, t.colour_shift_max),
            )
        )
