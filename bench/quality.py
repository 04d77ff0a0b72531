"""How good are our cut-outs, and how well does the quality gate tell the bad ones?

    .venv/bin/python bench/quality.py DIR [--limit N] [--json PATH]

DIR holds images/<stem>.jpg|png, masks/<stem>.png (the true foreground, 0/255)
and optionally labels.json ({stem: {"kind": ..., "defects": [reason codes]}}),
as written by bench/quality_set.py. Each photo goes through the production code
path (`processing.jobs.run_pipeline`, thresholds from settings); its mask is
compared with the truth at the truth's size. For comparison, plain
`rembg.remove(..., only_mask=True)` runs with the same model.

Printed, per the targets in DESIGN.md ("quality"):
- mean IoU, ours and plain rembg;
- recall: the share of truly bad cut-outs (IoU < 0.8) the gate flags (target ≥ 0.95);
- manual-intervention rate: the share of all photos sent to people
  (target ≤ the bad share + 10 points);
- per kind: IoU, flagged share, whether the labelled defects were named;
- timings per stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from _setup import django_setup, table
from PIL import Image

BAD_IOU = 0.8  # below this a cut-out is truly bad: a person must fix it
RECALL_TARGET = 0.95
EXTRA_MANUAL_POINTS = 0.10  # manual rate may exceed the bad share by this much
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class Row:
    stem: str
    kind: str
    defects: list[str]
    iou: float | None  # ours; None when the pipeline refused the photo
    rembg_iou: float
    passed: bool
    score: int | None
    reasons: list[str]
    second_opinion: str
    pipeline_ms: float
    rembg_ms: float
    timings_ms: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def bad(self) -> bool:
        return self.iou is None or self.iou < BAD_IOU

    @property
    def deserves_review(self) -> bool:
        """A bad cut-out, or a photo with a defect of its own (cut off, too small…)."""
        return self.bad or bool(self.defects)

    @property
    def defects_named(self) -> bool:
        return set(self.defects) <= set(self.reasons)


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


def measure(stem: str, image_path: Path, truth_path: Path, label: dict, rembg_session) -> Row:
    from rembg import remove

    from processing.jobs import StageClock, run_pipeline
    from processing.pipeline.ingest import BadImage
    from processing.thresholds import thresholds_for

    data = image_path.read_bytes()
    with Image.open(truth_path) as truth_image:
        truth = foreground(truth_image, truth_image.size)
    size = (truth.shape[1], truth.shape[0])

    clock = StageClock()
    started = time.perf_counter()
    try:
        # No category: the defaults from settings, as for a product without one.
        result = run_pipeline(data, thresholds=thresholds_for(""), options={}, clock=clock)
    except BadImage as exc:
        result, error = None, str(exc)
    else:
        error = ""
    pipeline_ms = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with Image.open(image_path) as photo:
        plain = remove(photo.convert("RGB"), session=rembg_session, only_mask=True)
    rembg_ms = (time.perf_counter() - started) * 1000

    kind = label.get("kind", "unlabelled")
    defects = list(label.get("defects", []))
    rembg_iou = iou(foreground(plain, size), truth)
    if result is None:
        return Row(
            stem, kind, defects, None, rembg_iou, False, None, [], "", pipeline_ms, rembg_ms, error=error
        )
    report = result.report
    return Row(
        stem=stem,
        kind=kind,
        defects=defects,
        iou=iou(foreground(result.mask, size), truth),
        rembg_iou=rembg_iou,
        passed=report.passed,
        score=report.score,
        reasons=[reason.code for reason in report.reasons],
        second_opinion=result.second_opinion,
        pipeline_ms=pipeline_ms,
        rembg_ms=rembg_ms,
        timings_ms=dict(clock.timings_ms),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def summarise(rows: list[Row]) -> dict:
    n = len(rows)
    bad = [r for r in rows if r.bad]
    flagged = [r for r in rows if not r.passed]
    deserving = [r for r in rows if r.deserves_review]
    with_defects = [r for r in rows if r.defects]
    false_alarms = [r for r in flagged if not r.deserves_review]
    # Photographic defects must reach a person whatever the cut-out is like, so the
    # manual-rate target is also checked on the photos without one.
    plain = [r for r in rows if not r.defects]
    plain_bad_share = _share(sum(r.bad for r in plain), len(plain))
    bad_share = _share(len(bad), n)
    summary = {
        "photos": n,
        "mean_iou": _mean([r.iou or 0.0 for r in rows]),
        "mean_iou_rembg": _mean([r.rembg_iou for r in rows]),
        "bad": len(bad),
        "bad_share": bad_share,
        "bad_flagged": sum(not r.passed for r in bad),
        "recall": _share(sum(not r.passed for r in bad), len(bad)),
        "recall_target": RECALL_TARGET,
        "flagged": len(flagged),
        "manual_rate": _share(len(flagged), n),
        "manual_rate_target": None if bad_share is None else bad_share + EXTRA_MANUAL_POINTS,
        "deserving_review_share": _share(len(deserving), n),
        "no_defect_photos": len(plain),
        "no_defect_flagged": sum(not r.passed for r in plain),
        "no_defect_manual_rate": _share(sum(not r.passed for r in plain), len(plain)),
        "no_defect_manual_rate_target": (
            None if plain_bad_share is None else plain_bad_share + EXTRA_MANUAL_POINTS
        ),
        "defect_photos": len(with_defects),
        "defects_flagged_and_named": sum(not r.passed and r.defects_named for r in with_defects),
        "false_alarms": len(false_alarms),
        "false_alarm_reasons": dict(Counter(c for r in false_alarms for c in r.reasons).most_common()),
        "missed_bad": [r.stem for r in bad if r.passed],
        "pipeline_ms_mean": _mean([r.pipeline_ms for r in rows]),
        "pipeline_ms_median": statistics.median([r.pipeline_ms for r in rows]) if rows else None,
        "rembg_ms_mean": _mean([r.rembg_ms for r in rows]),
        "stage_ms_mean": {},
    }
    stages = sorted({s for r in rows for s in r.timings_ms})
    for stage in stages:
        summary["stage_ms_mean"][stage] = _mean([r.timings_ms[stage] for r in rows if stage in r.timings_ms])
    return summary


def per_kind(rows: list[Row]) -> dict[str, dict]:
    kinds: dict[str, list[Row]] = {}
    for row in rows:
        kinds.setdefault(row.kind, []).append(row)
    out = {}
    for kind, group in kinds.items():
        with_defects = [r for r in group if r.defects]
        out[kind] = {
            "n": len(group),
            "mean_iou": _mean([r.iou or 0.0 for r in group]),
            "mean_iou_rembg": _mean([r.rembg_iou for r in group]),
            "bad": sum(r.bad for r in group),
            "bad_flagged": sum(r.bad and not r.passed for r in group),
            "flagged_share": _share(sum(not r.passed for r in group), len(group)),
            "defect_named_share": _share(sum(r.defects_named for r in with_defects), len(with_defects)),
            "reasons": dict(Counter(c for r in group for c in r.reasons).most_common(3)),
        }
    return out


def report(summary: dict, kinds: dict[str, dict], wall_seconds: float) -> str:
    s = summary
    recall_line = (
        f"{_fmt(s['recall'])} ({s['bad_flagged']}/{s['bad']} bad flagged; target >= {RECALL_TARGET})"
        if s["bad"]
        else "- (no bad cut-outs in this set)"
    )
    headline = [
        ("photos", s["photos"]),
        ("mean IoU, ours (run_pipeline)", _fmt(s["mean_iou"])),
        ("mean IoU, plain rembg u2netp", _fmt(s["mean_iou_rembg"])),
        (f"bad cut-outs (IoU < {BAD_IOU})", f"{s['bad']} ({_fmt(s['bad_share'])})"),
        ("recall of bad cut-outs", recall_line),
        (
            "manual-intervention rate",
            f"{_fmt(s['manual_rate'])} ({s['flagged']}/{s['photos']} flagged; "
            f"target <= {_fmt(s['manual_rate_target'])} = bad share + {EXTRA_MANUAL_POINTS:.2f})",
        ),
        ("share deserving review (bad or defect)", _fmt(s["deserving_review_share"])),
        (
            "manual rate, photos without a defect",
            f"{_fmt(s['no_defect_manual_rate'])} ({s['no_defect_flagged']}/{s['no_defect_photos']}; "
            f"target <= {_fmt(s['no_defect_manual_rate_target'])})",
        ),
        (
            "labelled defects flagged and named",
            f"{s['defects_flagged_and_named']}/{s['defect_photos']}",
        ),
        (
            "false alarms (good cut-out, no defect)",
            f"{s['false_alarms']} "
            + (
                "(" + ", ".join(f"{c}={n}" for c, n in s["false_alarm_reasons"].items()) + ")"
                if s["false_alarm_reasons"]
                else ""
            ),
        ),
        ("missed bad cut-outs", ", ".join(s["missed_bad"]) or "none"),
    ]
    kind_rows = [
        (
            kind,
            k["n"],
            _fmt(k["mean_iou"]),
            _fmt(k["mean_iou_rembg"]),
            f"{k['bad_flagged']}/{k['bad']}",
            _fmt(k["flagged_share"], 2),
            _fmt(k["defect_named_share"], 2),
            ", ".join(f"{c}={n}" for c, n in k["reasons"].items()),
        )
        for kind, k in sorted(kinds.items())
    ]
    timing_rows = [(stage, f"{ms:.0f}") for stage, ms in s["stage_ms_mean"].items()]
    timing_rows += [
        ("run_pipeline (mean)", f"{s['pipeline_ms_mean']:.0f}"),
        ("run_pipeline (median)", f"{s['pipeline_ms_median']:.0f}"),
        ("plain rembg.remove (mean)", f"{s['rembg_ms_mean']:.0f}"),
    ]
    return "\n\n".join(
        [
            table(headline, ("measure", "value")),
            table(
                kind_rows,
                ("kind", "n", "IoU", "IoU rembg", "bad flagged", "flagged", "defect named", "top reasons"),
            ),
            table(timing_rows, ("stage", "ms per photo")),
            f"wall {wall_seconds:.0f} s",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    photos = find_photos(args.dir)
    if args.limit is not None:
        photos = photos[: args.limit]
    if not photos:
        parser.error(f"no images with masks under {args.dir}/images and {args.dir}/masks")
    labels_path = args.dir / "labels.json"
    labels = json.loads(labels_path.read_text()) if labels_path.is_file() else {}

    django_setup()
    from rembg import new_session

    from processing.model_cache import get_segmentation_model

    # Raises with the provisioning command when the weights are missing: rembg would download.
    get_segmentation_model()
    rembg_session = new_session("u2netp")

    started = time.perf_counter()
    rows = []
    for stem, image, truth in photos:
        rows.append(measure(stem, image, truth, labels.get(stem, {}), rembg_session))
    wall = time.perf_counter() - started

    summary = summarise(rows)
    kinds = per_kind(rows)
    print(report(summary, kinds, wall))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"summary": summary, "per_kind": kinds, "photos": [asdict(r) for r in rows]},
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
