"""Run the pipeline over files on disk, without the web or the database.

Used by `manage.py process_images`; each input is independent, so a pool of
processes shares the work, each with its own model session.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from processing.pipeline.ingest import BadImage
from processing.pipeline.png import encode_png
from processing.pipeline.quality import Thresholds

if TYPE_CHECKING:
    from processing.jobs import PipelineResult, StageClock

IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".tif",
    ".tiff",
    ".bmp",
    ".heic",
    ".heif",
    ".avif",
}


@dataclass
class FileReport:
    input: str
    status: str  # published | flagged | failed
    score: int | None = None
    reasons: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    master: str = ""
    mask: str = ""
    timings_ms: dict[str, int] = field(default_factory=dict)
    renditions: list[dict] = field(default_factory=list)


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """Files as given, and the images inside any folder (recursively, sorted)."""
    found: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                str(p) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            found.append(raw)
    return found


def output_names(inputs: list[str], out_dir: Path, *, save_masks: bool) -> list[tuple[str, str]]:
    """Each input with the stem its outputs take (unique in the run); the folders made."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if save_masks:
        (out_dir / "masks").mkdir(exist_ok=True)
    taken: set[str] = set()
    return [(path, _output_name(path, taken)) for path in inputs]


def _output_name(path: str, taken: set[str]) -> str:
    stem = Path(path).stem or "image"
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    taken.add(name)
    return name


@dataclass(frozen=True)
class ProfileRecipe:
    """What the CLI needs of a marketplace profile, picklable for worker processes."""

    slug: str
    spec: str
    rules: dict
    requirements: dict


def render_for_profiles(
    master: Image.Image, stem: str, recipes: list[ProfileRecipe], out: Path
) -> list[dict]:
    from processing.pipeline.compliance import Requirements, check
    from processing.pipeline.render import RenditionMetadata, render_many
    from processing.pipeline.spec import RenditionSpec

    specs = [RenditionSpec.parse(r.spec) for r in recipes]
    metadata = RenditionMetadata(sku=stem, title=stem, alt_text=stem)
    rows = []
    for recipe, spec, image in zip(recipes, specs, render_many(master, specs, metadata), strict=True):
        result = check(
            image.data,
            spec,
            expected=metadata,
            rules=recipe.rules,
            requirements=Requirements.from_profile_fields(**recipe.requirements),
        )
        folder = out / "renditions" / recipe.slug
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}.{spec.extension}"
        path.write_bytes(image.data)
        rows.append(
            {
                "profile": recipe.slug,
                "path": str(path),
                "width": image.width,
                "height": image.height,
                "bytes": image.byte_size,
                "format": image.format,
                "compliant": result.passed,
                "failures": [f"{c.name}: {c.detail}" for c in result.failed()],
            }
        )
    return rows


def process_file(
    path: str, name: str, out_dir: str, save_masks: bool, thresholds: dict, recipes: tuple = ()
) -> FileReport:
    from processing.jobs import StageClock, run_pipeline

    started = time.perf_counter()
    clock = StageClock()
    try:
        data = Path(path).read_bytes()
        result = run_pipeline(data, thresholds=Thresholds.from_dict(thresholds), options={}, clock=clock)
    except (BadImage, OSError) as exc:
        return failed_report(path, exc, started)
    return save_outputs(
        result, path, name, Path(out_dir), clock, started, save_masks=save_masks, recipes=recipes
    )


def failed_report(path: str, exc: BadImage | OSError, started: float) -> FileReport:
    """The report of an input that could not be read or is not a photo we can use."""
    error = str(exc) if isinstance(exc, BadImage) else f"cannot read the file: {exc.strerror or exc}"
    return FileReport(path, "failed", error=error, seconds=time.perf_counter() - started)


def save_outputs(
    result: PipelineResult,
    path: str,
    name: str,
    out: Path,
    clock: StageClock,
    started: float,
    *,
    save_masks: bool,
    recipes: tuple = (),
) -> FileReport:
    """Write one input's master (and mask, and renditions when it passed) under `out`;
    its report."""
    with clock.stage("save"):
        master_path = ""
        if result.master is not None:
            master_path = str(out / f"{name}.png")
            Path(master_path).write_bytes(encode_png(result.master.image))
        mask_path = ""
        if save_masks:
            mask = result.mask
            if mask.size != result.ingested.original_size:
                mask = mask.resize(result.ingested.original_size, Image.Resampling.BILINEAR)
            mask_path = str(out / "masks" / f"{name}.png")
            Path(mask_path).write_bytes(encode_png(mask))
    report = result.report
    renditions = []
    if recipes and report.passed and result.master is not None:
        with clock.stage("render"):
            renditions = render_for_profiles(result.master.image, name, list(recipes), out)
    return FileReport(
        input=path,
        status="published" if report.passed else "flagged",
        score=report.score,
        reasons=[r.code for r in report.reasons],
        seconds=round(time.perf_counter() - started, 3),
        master=master_path,
        mask=mask_path,
        timings_ms=clock.timings_ms,
        renditions=renditions,
    )


def init_worker(threads: int) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.LIGHTBOX_ONNX_THREADS = threads


def process_files(
    inputs: list[str],
    out_dir: Path,
    *,
    save_masks: bool,
    workers: int,
    thresholds: dict,
    recipes: tuple[ProfileRecipe, ...] = (),
) -> Iterator[FileReport]:
    """Yield one report per input as each finishes (order of completion)."""
    jobs = output_names(inputs, out_dir, save_masks=save_masks)
    if workers <= 1:
        for path, name in jobs:
            yield process_file(path, name, str(out_dir), save_masks, thresholds, recipes)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn, not fork: a parent that already holds an ONNX Runtime session (its thread
    # pool included) must never fork it into children (shared/reliability.md §0).
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=init_worker, initargs=(threads,)
    ) as pool:
        futures = {
            pool.submit(process_file, path, name, str(out_dir), save_masks, thresholds, recipes): path
            for path, name in jobs
        }
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 - a crashed child fails its file, not the run
                yield FileReport(futures[future], "failed", error=f"{type(exc).__name__}: {exc}")


def write_report(reports: list[FileReport], inputs: list[str], out_dir: Path) -> Path:
    order = {path: i for i, path in enumerate(inputs)}
    rows = sorted(reports, key=lambda r: order.get(r.input, len(order)))
    path = out_dir / "report.json"
    buffer = io.StringIO()
    json.dump([asdict(r) for r in rows], buffer, indent=2)
    path.write_text(buffer.getvalue() + "\n")
    return path
