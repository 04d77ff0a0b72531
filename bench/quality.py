"""How good are our cut-outs, and how well does the quality gate tell the ones a person must see?

    .venv/bin/python bench/quality.py DIR [--limit N] [--json PATH] [--seed S]

DIR holds images/<stem>.jpg|png, masks/<stem>.png (the true foreground, 0/255) and
optionally labels.json in one of two forms:

- the calibration studio's (shared/calibration): {stem: {"defect": null | "cutoff" |
  "lowres" | "blur", "backdrop", "shadow"}}; the product is the `cNNN` in the stem;
- bench/quality_set.py's: {stem: {"kind", "shape", "defects": [reason codes], ...}};
  the product is the label's "product", else the stem.

Each photo goes through the production code path (`processing.jobs.run_pipeline`,
thresholds from settings, the cascade included) and, for comparison, through plain
`rembg.remove(only_mask=True)` with u2netp and with u2net; every mask is compared
with the truth at the truth's size.

A photo deserves a person when its cut-out is bad (IoU < 0.8) or it has a defect of
its own; a cut-out is good when the shot is clean and IoU >= 0.9. Printed, per
cross-validation half and in total: mean IoU (ours, plain u2netp, plain u2net; all
photos and clean shots, aim 0.95), recall of bad cut-outs (aim >= 0.95), recall of
defects (flagged with their reason named), false flags on good cut-outs (aim <= 0.10),
the share sent to people (aim <= the deserving share + 5 points), seconds per image,
how often the cascade ran and whose mask was kept, and per reason code on how many
good and how many deserving photos it fired.

Cross-validation over products: the products are split in two halves (seeded), the
gate's one free threshold, `part_error_max`, is fitted on one half (the smallest
false-flag rate with recall of bad cut-outs >= 0.95, over 0.04..0.30) and the other
half is reported at the fitted value and at the principled default
(Thresholds().part_error_max), both ways. The pipeline runs once: a photo is flagged
at threshold t when reasons other than missing_part/backdrop_included flag it, or
max(part_missing, part_added) > t (either reason alone fails a photo).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

if __package__:  # imported as bench.quality (the tests)
    from bench._setup import ROOT, django_setup, table
else:
    from _setup import ROOT, django_setup, table

BAD_IOU = 0.8  # below this a cut-out is bad: a person must fix it
GOOD_IOU = 0.9  # at or above this a clean shot's cut-out is good: it should publish
CLEAN_IOU_AIM = 0.95
RECALL_AIM = 0.95
FALSE_FLAG_AIM = 0.10
EXTRA_SENT_POINTS = 0.05  # people may see this much more than the share that deserves them
# The grid `part_error_max` is fitted over.
GRID = tuple(round(0.04 + 0.01 * step, 2) for step in range(27))  # 0.04 .. 0.30
# The reasons `part_error_max` decides; each alone fails a photo.
PART_REASONS = ("missing_part", "backdrop_included")
# The calibration studio's defect words, as the gate's reason codes.
STUDIO_DEFECTS = {"cutoff": "cut_off", "lowres": "low_resolution", "blur": "blurry"}
PLAIN_MODELS = ("u2netp", "u2net")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
_PRODUCT_IN_STEM = re.compile(r"c\d{3}")


@dataclass(frozen=True)
class Label:
    product: str
    kind: str
    defects: tuple[str, ...]  # the reason codes the photo itself deserves
    tags: dict[str, str] = field(default_factory=dict)  # backdrop, shadow where known


def read_label(stem: str, raw: dict | None) -> Label:
    """What a labels.json entry says about the photo `stem`, in either form (see the
    module docstring). Raises ValueError for a defect this bench does not know."""
    raw = raw or {}
    tags = {key: str(raw[key]) for key in ("backdrop", "shadow") if raw.get(key)}
    if "defect" in raw:  # the calibration studio's labels
        defect = raw["defect"]
        if defect is not None and defect not in STUDIO_DEFECTS:
            raise ValueError(
                f"{stem}: unknown defect {defect!r}; expected one of {', '.join(STUDIO_DEFECTS)}"
            )
        found = _PRODUCT_IN_STEM.search(stem)
        return Label(
            product=found.group(0) if found else stem,
            kind=defect or "clean",
            defects=(STUDIO_DEFECTS[defect],) if defect else (),
            tags=tags,
        )
    return Label(
        product=str(raw.get("product") or stem),
        kind=str(raw.get("kind", "unlabelled")),
        defects=tuple(raw.get("defects", ())),
        tags=tags,
    )


@dataclass
class Row:
    stem: str
    product: str
    kind: str
    tags: dict[str, str]
    defects: list[str]
    iou: float | None  # ours; None when the pipeline refused the photo
    iou_plain: dict[str, float]  # plain rembg, by model
    passed: bool
    score: int | None
    reasons: list[str]
    # What `part_error_max` is compared with, and whether the gate flags the photo for
    # anything else (see `gate_fields`).
    part_missing: float
    part_added: float
    flagged_otherwise: bool
    second_opinion: str
    model: str  # whose mask was kept; "" for a real alpha channel or a refused photo
    cascade: dict | None
    seconds: float
    seconds_plain: dict[str, float]
    timings_ms: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def bad(self) -> bool:
        return self.iou is None or self.iou < BAD_IOU

    @property
    def clean(self) -> bool:
        return not self.defects

    @property
    def good(self) -> bool:
        """A clean shot whose cut-out is good: it should publish without a person."""
        return self.clean and self.iou is not None and self.iou >= GOOD_IOU

    @property
    def deserving(self) -> bool:
        """A bad cut-out, or a photo with a defect of its own: a person must see it."""
        return self.bad or not self.clean

    @property
    def part_error(self) -> float:
        return max(self.part_missing, self.part_added)

    def flagged_at(self, threshold: float) -> bool:
        """Whether the gate with `part_error_max` = threshold sends the photo to a person."""
        return bool(self.error) or self.flagged_otherwise or self.part_error > threshold

    def reasons_at(self, threshold: float) -> list[str]:
        codes = [code for code in self.reasons if code not in PART_REASONS]
        if self.part_missing > threshold:
            codes.append("missing_part")
        if self.part_added > threshold:
            codes.append("backdrop_included")
        return codes

    def defects_named_at(self, threshold: float) -> bool:
        return self.flagged_at(threshold) and set(self.defects) <= set(self.reasons_at(threshold))


def gate_fields(report, pass_score: int) -> dict:
    """From a QualityReport: the signals `part_error_max` is compared with, and whether the
    photo is flagged by the other reasons alone (their score below the pass score, or one
    of them blocking)."""
    others = [reason for reason in report.reasons if reason.code not in PART_REASONS]
    score = max(0, min(100, 100 - sum(reason.penalty for reason in others)))
    return {
        "part_missing": float(report.signals.get("part_missing", 0.0)),
        "part_added": float(report.signals.get("part_added", 0.0)),
        "flagged_otherwise": score < pass_score or any(reason.blocking for reason in others),
    }


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else 1.0


def foreground(mask: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """`mask` as booleans (alpha >= 128) at `size`."""
    mask = mask.convert("L")
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(mask) >= 128


def find_photos(root: Path) -> list[tuple[str, Path, Path]]:
    """(stem, image, truth) for every image in root/images that has a mask in root/masks."""
    photos = []
    if not (root / "images").is_dir():
        return photos
    for image in sorted((root / "images").iterdir()):
        truth = root / "masks" / f"{image.stem}.png"
        if image.suffix.lower() in IMAGE_SUFFIXES and truth.is_file():
            photos.append((image.stem, image, truth))
    return photos


def measure(stem: str, image_path: Path, truth_path: Path, label: Label, sessions: dict, thresholds) -> Row:
    from rembg import remove

    from processing.jobs import StageClock, run_pipeline
    from processing.pipeline.ingest import BadImage

    data = image_path.read_bytes()
    with Image.open(truth_path) as truth_image:
        truth = foreground(truth_image, truth_image.size)
    size = (truth.shape[1], truth.shape[0])

    clock = StageClock()
    started = time.perf_counter()
    try:
        result = run_pipeline(data, thresholds=thresholds, options={}, clock=clock)
    except BadImage as exc:
        result, error = None, str(exc)
    else:
        error = ""
    seconds = time.perf_counter() - started

    iou_plain, seconds_plain = {}, {}
    for name, session in sessions.items():
        started = time.perf_counter()
        with Image.open(image_path) as photo:
            plain = remove(photo.convert("RGB"), session=session, only_mask=True)
        seconds_plain[name] = time.perf_counter() - started
        iou_plain[name] = iou(foreground(plain, size), truth)

    common = {
        "stem": stem,
        "product": label.product,
        "kind": label.kind,
        "tags": dict(label.tags),
        "defects": list(label.defects),
        "iou_plain": iou_plain,
        "seconds": seconds,
        "seconds_plain": seconds_plain,
        "timings_ms": dict(clock.timings_ms),
    }
    if result is None:
        return Row(
            **common,
            iou=None,
            passed=False,
            score=None,
            reasons=[],
            part_missing=0.0,
            part_added=0.0,
            flagged_otherwise=True,
            second_opinion="",
            model="",
            cascade=None,
            error=error,
        )
    report = result.report
    return Row(
        **common,
        iou=iou(foreground(result.mask, size), truth),
        passed=report.passed,
        score=report.score,
        reasons=[reason.code for reason in report.reasons],
        **gate_fields(report, thresholds.pass_score),
        second_opinion=result.second_opinion,
        model=result.model.name if result.model else "",
        cascade=result.cascade,
    )


# --- cross-validation -------------------------------------------------------------


def split_products(products: Iterable[str], seed: int) -> tuple[list[str], list[str]]:
    """The products in two halves (the first one larger when odd), the same for the same
    products and seed whatever order they come in."""
    order = sorted(set(products))
    random.Random(seed).shuffle(order)
    middle = (len(order) + 1) // 2
    return sorted(order[:middle]), sorted(order[middle:])


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def recall_and_false_flags(rows: list[Row], threshold: float) -> tuple[float | None, float | None]:
    bad = [r for r in rows if r.bad]
    good = [r for r in rows if r.good]
    return (
        _share(sum(r.flagged_at(threshold) for r in bad), len(bad)),
        _share(sum(r.flagged_at(threshold) for r in good), len(good)),
    )


def fit_threshold(rows: list[Row], grid: Iterable[float] = GRID) -> dict:
    """`part_error_max` for `rows`: the smallest false-flag rate on good cut-outs among the
    grid's values whose recall of bad cut-outs reaches RECALL_AIM (with no bad cut-out,
    any value does), ties to the higher recall; when none reaches the aim, the highest
    recall, ties to the fewer false flags. Values that tie on both make a run of the grid
    (both measures only fall as the threshold grows); the middle one is taken, the
    farthest from a change either way."""
    points = []
    for threshold in grid:
        recall, false_flags = recall_and_false_flags(rows, threshold)
        points.append({"threshold": threshold, "recall": recall, "false_flags": false_flags})

    def key(point: dict) -> tuple[float, float]:
        recall = 1.0 if point["recall"] is None else point["recall"]
        false_flags = point["false_flags"] or 0.0
        return (false_flags, -recall) if aim_met else (-recall, false_flags)

    aim_met = any(p["recall"] is None or p["recall"] >= RECALL_AIM for p in points)
    candidates = [p for p in points if not aim_met or p["recall"] is None or p["recall"] >= RECALL_AIM]
    best = min(key(p) for p in candidates)
    tied = [p for p in candidates if key(p) == best]
    chosen = tied[(len(tied) - 1) // 2]
    return {
        "threshold": chosen["threshold"],
        "aim_met": aim_met,
        "recall": chosen["recall"],
        "false_flags": chosen["false_flags"],
        "tied": [p["threshold"] for p in tied],
        "bad": sum(r.bad for r in rows),
        "good": sum(r.good for r in rows),
        "grid": points,
    }


# --- what is reported -------------------------------------------------------------


def evaluate(rows: list[Row], threshold_for: Callable[[Row], float]) -> dict:
    """Every measure over `rows`, each judged at its own `part_error_max`."""
    bad = [r for r in rows if r.bad]
    good = [r for r in rows if r.good]
    clean = [r for r in rows if r.clean]
    with_defects = [r for r in rows if not r.clean]
    deserving = [r for r in rows if r.deserving]

    def flagged(row: Row) -> bool:
        return row.flagged_at(threshold_for(row))

    def named(row: Row) -> bool:
        return row.defects_named_at(threshold_for(row))

    sent = sum(flagged(r) for r in rows)
    deserving_share = _share(len(deserving), len(rows))
    models = sorted({name for r in rows for name in r.iou_plain})

    def mean_iou(group: list[Row]) -> dict[str, float | None]:
        means = {"ours": _mean([r.iou or 0.0 for r in group])}
        means.update({name: _mean([r.iou_plain[name] for r in group]) for name in models})
        return means

    reasons: dict[str, dict[str, int]] = {}
    for row in rows:
        side = "good" if row.good else "deserving" if row.deserving else "neither"
        for code in row.reasons_at(threshold_for(row)):
            reasons.setdefault(code, {"good": 0, "deserving": 0, "neither": 0})[side] += 1
    ran = [r for r in rows if r.cascade is not None]
    return {
        "photos": len(rows),
        "products": len({r.product for r in rows}),
        "thresholds": sorted({threshold_for(r) for r in rows}),
        "mean_iou": mean_iou(rows),
        "clean_photos": len(clean),
        "clean_mean_iou": mean_iou(clean),
        "bad": {
            "n": len(bad),
            "flagged": sum(flagged(r) for r in bad),
            "recall": _share(sum(flagged(r) for r in bad), len(bad)),
        },
        "defects": {
            "n": len(with_defects),
            "flagged_and_named": sum(named(r) for r in with_defects),
            "recall": _share(sum(named(r) for r in with_defects), len(with_defects)),
        },
        "good": {
            "n": len(good),
            "flagged": sum(flagged(r) for r in good),
            "false_flag_rate": _share(sum(flagged(r) for r in good), len(good)),
        },
        "sent_to_people": {"n": sent, "share": _share(sent, len(rows))},
        "deserving": {"n": len(deserving), "share": deserving_share},
        "sent_aim": None if deserving_share is None else deserving_share + EXTRA_SENT_POINTS,
        "seconds_per_image": {
            "ours": _mean([r.seconds for r in rows]),
            **{name: _mean([r.seconds_plain[name] for r in rows]) for name in models},
        },
        "cascade": {
            "ran": len(ran),
            "share": _share(len(ran), len(rows)),
            "kept_when_ran": dict(Counter(r.cascade.get("kept", "") for r in ran)),
        },
        "mask_kept": dict(Counter(r.model or "none" for r in rows).most_common()),
        "refused": sum(bool(r.error) for r in rows),
        "reasons": dict(sorted(reasons.items())),
        "missed": sorted(r.stem for r in deserving if not flagged(r)),
        "defects_not_named": sorted(r.stem for r in with_defects if not named(r)),
        "false_flags": sorted(r.stem for r in good if flagged(r)),
    }


def groups(rows: list[Row], threshold: float) -> dict[str, dict]:
    """Per kind, backdrop and shadow: who is in trouble, at one threshold."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(f"kind={row.kind}", []).append(row)
        for key, value in sorted(row.tags.items()):
            grouped.setdefault(f"{key}={value}", []).append(row)
    out = {}
    for name, group in grouped.items():
        good = [r for r in group if r.good]
        deserving = [r for r in group if r.deserving]
        out[name] = {
            "n": len(group),
            "mean_iou": _mean([r.iou or 0.0 for r in group]),
            "mean_iou_plain": {
                model: _mean([r.iou_plain[model] for r in group]) for model in sorted(group[0].iou_plain)
            },
            "bad": sum(r.bad for r in group),
            "deserving": len(deserving),
            "deserving_flagged": sum(r.flagged_at(threshold) for r in deserving),
            "good": len(good),
            "good_flagged": sum(r.flagged_at(threshold) for r in good),
            "reasons": dict(Counter(c for r in group for c in r.reasons_at(threshold)).most_common(4)),
        }
    return dict(sorted(out.items()))


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(share: float | None, part: int, whole: int) -> str:
    return f"{_fmt(share)} ({part}/{whole})"


def _measure_rows(columns: dict[str, dict], models: list[str]) -> list[tuple]:
    def line(name: str, cell: Callable[[dict], str]) -> tuple:
        return (name, *(cell(c) for c in columns.values()))

    rows = [
        line("photos (products)", lambda c: f"{c['photos']} ({c['products']})"),
        line("part_error_max", lambda c: ", ".join(f"{t:.2f}" for t in c["thresholds"])),
        line("mean IoU, ours (run_pipeline)", lambda c: _fmt(c["mean_iou"]["ours"])),
    ]
    rows += [line(f"mean IoU, plain rembg {m}", lambda c, m=m: _fmt(c["mean_iou"][m])) for m in models]
    rows.append(
        line(
            f"clean shots: mean IoU, ours (aim {CLEAN_IOU_AIM})",
            lambda c: f"{_fmt(c['clean_mean_iou']['ours'])} (n={c['clean_photos']})",
        )
    )
    rows += [
        line(f"clean shots: mean IoU, plain {m}", lambda c, m=m: _fmt(c["clean_mean_iou"][m])) for m in models
    ]
    rows += [
        line(
            f"recall of bad cut-outs (IoU < {BAD_IOU}; aim >= {RECALL_AIM})",
            lambda c: _ratio(c["bad"]["recall"], c["bad"]["flagged"], c["bad"]["n"]),
        ),
        line(
            "recall of defects (flagged, reason named)",
            lambda c: _ratio(c["defects"]["recall"], c["defects"]["flagged_and_named"], c["defects"]["n"]),
        ),
        line(
            f"false flags on good cut-outs (aim <= {FALSE_FLAG_AIM:.2f})",
            lambda c: _ratio(c["good"]["false_flag_rate"], c["good"]["flagged"], c["good"]["n"]),
        ),
        line(
            "deserving a person (bad cut-out or defect)",
            lambda c: _ratio(c["deserving"]["share"], c["deserving"]["n"], c["photos"]),
        ),
        line(
            f"sent to people (aim <= deserving + {EXTRA_SENT_POINTS:.2f})",
            lambda c: (
                f"{_ratio(c['sent_to_people']['share'], c['sent_to_people']['n'], c['photos'])}"
                f" aim <= {_fmt(c['sent_aim'])}"
            ),
        ),
        line("seconds per image, ours", lambda c: _fmt(c["seconds_per_image"]["ours"], 2)),
    ]
    rows += [
        line(f"seconds per image, plain {m}", lambda c, m=m: _fmt(c["seconds_per_image"][m], 2))
        for m in models
    ]
    rows += [
        line(
            "cascade ran (kept when it ran)",
            lambda c: (
                f"{_ratio(c['cascade']['share'], c['cascade']['ran'], c['photos'])} "
                + " ".join(f"{k}={n}" for k, n in sorted(c["cascade"]["kept_when_ran"].items()))
            ),
        ),
        line("mask kept", lambda c: " ".join(f"{k}={n}" for k, n in c["mask_kept"].items())),
        line("refused by the pipeline", lambda c: str(c["refused"])),
    ]
    return rows


def _fit_line(half: str, fit: dict) -> str:
    line = (
        f"part_error_max fitted on {half} ({fit['bad']} bad, {fit['good']} good cut-outs): "
        f"{fit['threshold']:.2f}, recall {_fmt(fit['recall'], 2)}, false flags "
        f"{_fmt(fit['false_flags'], 2)} there (ties {fit['tied'][0]:.2f}..{fit['tied'][-1]:.2f})"
    )
    if not fit["aim_met"]:
        line += f"; recall {RECALL_AIM} is out of reach on {half}, the highest taken"
    return line


def report(data: dict) -> str:
    columns = data["columns"]
    models = data["plain_models"]
    split, fits = data["split"], data["fits"]
    run = data["run_thresholds"]
    header = [
        f"{data['dir']}: {data['photos']} photos of {data['products']} products ({data['labels']} labels)",
        f"code: {data.get('code', 'unknown')}",
        f"gate run with pass_score={run['pass_score']}, part_error_max={run['part_error_max']:.2f}; "
        f"principled default part_error_max={data['default_threshold']:.2f}",
        f"cross-validation over products (seed {split['seed']}): half A {len(split['A'])} products "
        f"({split['photos']['A']} photos), half B {len(split['B'])} products ({split['photos']['B']} photos)",
        *(_fit_line(half, fit) for half, fit in fits.items()),
        "note: only part_error_max varies; the cascade's trigger (part error > part_error_max / 2) "
        f"and shadow_included's limit stay at the run's {run['part_error_max']:.2f}",
        f"check: flags recomputed at {run['part_error_max']:.2f} agree with the gate on "
        f"{data['consistency']['agree']}/{data['photos']} photos"
        + (
            f" (disagree: {', '.join(data['consistency']['disagree'])})"
            if data["consistency"]["disagree"]
            else ""
        ),
    ]
    names = list(columns)
    confusion_codes = sorted({code for c in columns.values() for code in c["reasons"]})
    confusion = [
        (
            code,
            *(
                "{good}/{deserving}".format(**c["reasons"].get(code, {"good": 0, "deserving": 0}))
                for c in columns.values()
            ),
        )
        for code in confusion_codes
    ]
    grid = []
    for index, threshold in enumerate(GRID):
        cells = [f"{threshold:.2f}"]
        for half in ("A", "B"):
            point = fits[half]["grid"][index]
            cells.append(f"{_fmt(point['recall'], 2)} / {_fmt(point['false_flags'], 2)}")
        cells.append(data["grid_all"][index])
        grid.append(tuple(cells))
    group_rows = [
        (
            name,
            g["n"],
            _fmt(g["mean_iou"]),
            " ".join(_fmt(v) for v in g["mean_iou_plain"].values()),
            g["bad"],
            f"{g['deserving_flagged']}/{g['deserving']}",
            f"{g['good_flagged']}/{g['good']}",
            ", ".join(f"{c}={n}" for c, n in g["reasons"].items()),
        )
        for name, g in data["groups"].items()
    ]
    total = columns[names[-1]]
    lists = [
        f"missed (deserving, not flagged) at {run['part_error_max']:.2f}: "
        + (", ".join(total["missed"]) or "none"),
        "defects not flagged with their reason: " + (", ".join(total["defects_not_named"]) or "none"),
        "false flags (good cut-out flagged): "
        + (
            ", ".join(f"{stem} [{'; '.join(data['reasons_of'][stem])}]" for stem in total["false_flags"])
            or "none"
        ),
    ]
    timing_rows = [(stage, f"{ms:.0f}") for stage, ms in data["stage_ms_mean"].items()]
    return "\n\n".join(
        [
            "\n".join(header),
            table(_measure_rows(columns, models), ("measure", *names)),
            "reasons fired, on good cut-outs / on photos deserving a person:\n"
            + table(confusion, ("reason", *names)),
            "part_error_max grid: recall of bad cut-outs / false flags on good cut-outs\n"
            + table(grid, ("t", "on A", "on B", "all")),
            f"by kind, backdrop and shadow, at part_error_max={run['part_error_max']:.2f}:\n"
            + table(
                group_rows,
                (
                    "group",
                    "n",
                    "IoU",
                    "IoU " + "/".join(models),
                    "bad",
                    "deserving flagged",
                    "good flagged",
                    "reasons",
                ),
            ),
            "\n".join(lists),
            table(timing_rows, ("stage of run_pipeline", "ms per photo that ran it")),
            f"wall {data['wall_seconds']:.0f} s",
        ]
    )


def summarise(rows: list[Row], *, seed: int, run_threshold: float, default_threshold: float) -> dict:
    """Split, fit, and every column of the report."""
    half_a, half_b = split_products((r.product for r in rows), seed)
    in_a = set(half_a)
    rows_a = [r for r in rows if r.product in in_a]
    rows_b = [r for r in rows if r.product not in in_a]
    fits = {"A": fit_threshold(rows_a), "B": fit_threshold(rows_b)}
    fitted_a, fitted_b = fits["A"]["threshold"], fits["B"]["threshold"]

    def out_of_fold(row: Row) -> float:
        return fitted_b if row.product in in_a else fitted_a

    def at(threshold: float) -> Callable[[Row], float]:
        return lambda _row: threshold

    columns = {
        f"A @ {fitted_b:.2f} (fit on B)": evaluate(rows_a, at(fitted_b)),
        f"A @ {default_threshold:.2f} (default)": evaluate(rows_a, at(default_threshold)),
        f"B @ {fitted_a:.2f} (fit on A)": evaluate(rows_b, at(fitted_a)),
        f"B @ {default_threshold:.2f} (default)": evaluate(rows_b, at(default_threshold)),
        "all, out-of-fold": evaluate(rows, out_of_fold),
        f"all @ {default_threshold:.2f} (default)": evaluate(rows, at(default_threshold)),
    }
    if run_threshold != default_threshold:
        columns[f"all @ {run_threshold:.2f} (as run)"] = evaluate(rows, at(run_threshold))
    grid_all = []
    for threshold in GRID:
        recall, false_flags = recall_and_false_flags(rows, threshold)
        grid_all.append(f"{_fmt(recall, 2)} / {_fmt(false_flags, 2)}")
    disagree = [r.stem for r in rows if r.flagged_at(run_threshold) == r.passed]
    stages = sorted({s for r in rows for s in r.timings_ms})
    return {
        "photos": len(rows),
        "products": len({r.product for r in rows}),
        "default_threshold": default_threshold,
        "split": {"seed": seed, "A": half_a, "B": half_b, "photos": {"A": len(rows_a), "B": len(rows_b)}},
        "fits": fits,
        "grid_all": grid_all,
        "columns": columns,
        "groups": groups(rows, run_threshold),
        "consistency": {"agree": len(rows) - len(disagree), "disagree": disagree},
        "reasons_of": {r.stem: r.reasons or ([r.error] if r.error else []) for r in rows},
        "stage_ms_mean": {s: _mean([r.timings_ms[s] for r in rows if s in r.timings_ms]) for s in stages},
    }


# --- running it ---------------------------------------------------------------------


def plain_sessions() -> dict:
    """rembg sessions for the plain comparison, from the provisioned weights only: rembg
    would download a model it cannot find, so a missing or altered file stops the bench."""
    from django.conf import settings

    from processing.provisioning import is_provisioned

    model_dir = Path(settings.LIGHTBOX_MODEL_DIR)
    # rembg finds weights through U2NET_HOME (as load_model points it).
    os.environ["U2NET_HOME"] = str(model_dir)
    from rembg import new_session

    sessions = {}
    for name in PLAIN_MODELS:
        if not is_provisioned(model_dir, name):
            raise SystemExit(
                f"{name} weights are missing or altered in {model_dir}; "
                f"run `python manage.py provision_model --model {name}`"
            )
        sessions[name] = new_session(name)
    return sessions


def warm_up(sessions: dict) -> None:
    """Load every model and run it once, so no photo's time includes a session's start."""
    from django.conf import settings
    from rembg import remove

    from processing.model_cache import get_segmentation_model
    from processing.pipeline.segment import segment

    sample = Image.new("RGB", (64, 64), (200, 200, 200))
    names = [settings.LIGHTBOX_MODEL_NAME, getattr(settings, "LIGHTBOX_CASCADE_MODEL", "")]
    for name in filter(None, names):
        # Raises with the provisioning command when the weights are missing.
        segment(sample, get_segmentation_model(name))
    for session in sessions.values():
        remove(sample, session=session, only_mask=True)


def code_version() -> str:
    """The commit the gate ran at, and whether the pipeline had uncommitted changes: a
    report is only comparable with another at the same code."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603, S607
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "processing")
    return f"{commit}{' + uncommitted changes in processing/' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos")
    parser.add_argument("--json", type=Path, default=None, help="also write every number and photo here")
    parser.add_argument("--seed", type=int, default=0, help="of the split into halves")
    args = parser.parse_args(argv)

    photos = find_photos(args.dir)
    if args.limit is not None:
        photos = photos[: args.limit]
    if not photos:
        parser.error(f"no images with masks under {args.dir}/images and {args.dir}/masks")
    labels_path = args.dir / "labels.json"
    raw_labels = json.loads(labels_path.read_text()) if labels_path.is_file() else {}
    try:
        labels = {stem: read_label(stem, raw_labels.get(stem)) for stem, _, _ in photos}
    except ValueError as exc:
        parser.error(str(exc))
    form = (
        "studio" if any("defect" in v for v in raw_labels.values()) else "generated" if raw_labels else "no"
    )

    django_setup()
    from processing.pipeline.quality import Thresholds
    from processing.thresholds import thresholds_for

    # No category: the defaults from settings, as for a product without one.
    thresholds = thresholds_for("")
    sessions = plain_sessions()
    warm_up(sessions)

    started = time.perf_counter()
    rows = []
    for stem, image, truth in photos:
        rows.append(measure(stem, image, truth, labels[stem], sessions, thresholds))
    wall = time.perf_counter() - started

    data = {
        "dir": str(args.dir),
        "code": code_version(),
        "labels": form,
        "plain_models": list(PLAIN_MODELS),
        "run_thresholds": asdict(thresholds),
        "wall_seconds": wall,
        **summarise(
            rows,
            seed=args.seed,
            run_threshold=thresholds.part_error_max,
            default_threshold=Thresholds().part_error_max,
        ),
    }
    print(report(data))
    if args.json:
        photos_out = [
            {
                **asdict(r),
                "bad": r.bad,
                "good": r.good,
                "deserving": r.deserving,
                "part_error": r.part_error,
                "half": "A" if r.product in set(data["split"]["A"]) else "B",
            }
            for r in rows
        ]
        args.json.write_text(json.dumps({**data, "photo_rows": photos_out}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
