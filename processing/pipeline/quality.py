"""Measure a cut-out, score it 0–100 and say in plain words what looks wrong.

Score starts at 100 and each reason takes off its penalty. A reason's penalty
grows from `base` just past its limit to `full` at twice the limit (or worse),
so a marginal signal costs little and a gross one costs a lot. Some reasons are
blocking: the image goes to a reviewer whatever the score.

The weights follow what was measured (DESIGN.md, "quality"): the disagreement
between the model's mask and an independent second opinion tracks the true
error far better (ROC AUC ~0.9) than statistics of one mask alone (~0.7), so
disagreement alone fails an image while one single-mask statistic alone does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab

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
    blur_min: float = 60.0  # variance of Laplacian on the product region, grey, working scale
    clipped_share_max: float = 0.05  # share of product pixels clipped black or white in luma
    disagreement_max: float = 0.12  # 1 - IoU between the model mask and the second opinion
    colour_shift_max: float = 6.0  # mean ΔE (CIE76) between source and master in the product

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Thresholds:
        """Thresholds from settings or a profile: None keeps the default; an unknown key,
        a value of the wrong type or a negative value raises ValueError naming the key."""
        known = {f.name: type(f.default) for f in fields(cls)}
        values = {}
        for key, value in data.items():
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
            values[key] = expected(value)
        if values.get("pass_score", 0) > 100:
            raise ValueError("quality threshold 'pass_score' must be at most 100")
        return cls(**values)


DEFAULT_THRESHOLDS = Thresholds()


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

    def reasons_json(self) -> list[dict]:
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
    "mask_disagreement": (40, 60),
    "low_resolution": (35, 50),
    "tiny_product": (35, 50),
    "implausible_coverage": (35, 50),
    "colour_shift": (35, 50),
    "blurry": (20, 40),
    "exposure": (15, 35),
    # Single-mask statistics separate good from bad poorly on their own: one alone
    # just past its limit does not fail an image; far past it, it does.
    "uncertain_edges": (15, 35),
    "fragmented_mask": (15, 35),
    # Real openings (a mug's handle) are holes too, hence the lightest weight.
    "holes": (10, 30),
}


def assess(
    image: Image.Image,
    mask: Image.Image,
    *,
    original_size: tuple[int, int] | None = None,
    second_mask: Image.Image | None = None,
    master: Image.Image | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> QualityReport:
    """Score the cut-out of `image` by `mask` ("L", same size).

    `original_size` is the full-resolution size when `image` is a working copy;
    `second_mask` an independent foreground estimate (any size, same framing);
    `master` the composed "RGBA" master, compared with the source for colour shift.
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

    other = _second_opinion(second_mask, fg.shape) if second_mask is not None else None
    _measure_mask(alpha, fg, signals, reasons, t, other)
    _measure_photo(rgb, alpha, fg, signals, reasons, t)
    if other is not None:
        _measure_disagreement(fg, other, signals, reasons, t)
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

    # The product's outline is included: on a plain product it is most of the detail.
    region = ndimage.binary_dilation(fg, iterations=2)
    laplacian = ndimage.laplace(grey.astype(np.float32))
    blur = float(laplacian[region].var())
    signals["blur"] = blur
    if blur < t.blur_min:
        reasons.append(
            _reason(
                "blurry",
                f"The product looks out of focus or soft (sharpness {blur:.0f}, minimum {t.blur_min:.0f}).",
                blur,
                t.blur_min,
                severity=_below(blur, t.blur_min),
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
    blown = (rgb[inside] >= 254).sum(axis=1) >= 2
    clipped = float((blown | (grey[inside] <= 1)).mean())
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


def _second_opinion(second_mask: Image.Image, shape: tuple[int, int]) -> np.ndarray:
    second = second_mask if second_mask.mode == "L" else second_mask.convert("L")
    height, width = shape
    if second.size != (width, height):
        second = second.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(second) >= 128


def _measure_disagreement(
    fg: np.ndarray,
    other: np.ndarray,
    signals: dict[str, float],
    reasons: list[Reason],
    t: Thresholds,
) -> None:
    union = int((fg | other).sum())
    disagreement = 1.0 - (fg & other).sum() / union if union else 0.0
    signals["disagreement"] = float(disagreement)
    if disagreement > t.disagreement_max:
        severity = _above(disagreement, t.disagreement_max)
        reasons.append(
            _reason(
                "mask_disagreement",
                "Two independent cut-outs of this photo disagree on "
                f"{_percent(disagreement)} of the product, so the cut-out is probably wrong.",
                disagreement,
                t.disagreement_max,
                severity=severity,
                blocking=bool(severity > 2.0),
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
