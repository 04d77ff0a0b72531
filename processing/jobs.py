"""RQ entry points. Each is a thin, idempotent shell: an id in, the row claimed,
pure pipeline stages called, the result persisted, one timing line logged.

Bad input fails the version at once with a reason a merchandiser understands
and is never retried. Anything else is recorded on the row and retried with
backoff (RQ `Retry`), up to LIGHTBOX_MAX_ATTEMPTS; the sweeper re-enqueues what
Redis lost.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageOps

from catalog.models import ImageVersion, InvalidTransition, SourceImage
from lightbox import jobs, outages
from lightbox.joblog import add_to_job_context
from processing import metrics
from processing.model_cache import get_segmentation_model
from processing.pipeline.backdrop import estimate_backdrop
from processing.pipeline.compose import ComposedMaster, compose_master
from processing.pipeline.ingest import BadImage, IngestedImage, IngestLimits, hamming_distance, ingest
from processing.pipeline.png import encode_png
from processing.pipeline.quality import (
    MaskComparison,
    QualityReport,
    SecondOpinion,
    Thresholds,
    assess,
    compare_masks,
    fill_missing_parts,
)
from processing.pipeline.segment import ModelNotProvisioned, SegmentationModel, segment, segmentation_from
from processing.thresholds import model_for, thresholds_for

logger = logging.getLogger("lightbox.jobs")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class StageClock:
    """Milliseconds per stage, and the process CPU seconds the whole run used."""

    timings_ms: dict[str, int] = field(default_factory=dict)
    _cpu_start: float = field(default_factory=time.process_time)
    _wall_start: float = field(default_factory=time.perf_counter)

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[name] = round((time.perf_counter() - started) * 1000)

    @property
    def cpu_seconds(self) -> float:
        return time.process_time() - self._cpu_start

    @property
    def wall_seconds(self) -> float:
        return time.perf_counter() - self._wall_start

    def line(self) -> str:
        stages = " ".join(f"{k}={v}ms" for k, v in self.timings_ms.items())
        return f"{stages} total={round(self.wall_seconds * 1000)}ms cpu={self.cpu_seconds:.2f}s"


@dataclass
class PipelineResult:
    ingested: IngestedImage
    mask: Image.Image
    master: ComposedMaster | None
    report: QualityReport
    model: SegmentationModel | None  # the model whose mask was kept; None for a real alpha channel
    second_opinion: str
    # When the stronger model was tried: both models' part errors and which mask was kept.
    cascade: dict | None = None
    # When parts the model missed were put back from the backdrop model: their share and place.
    repair: dict | None = None

    @property
    def used_model(self) -> bool:
        return self.model is not None


def second_opinion_mask(
    image: Image.Image, model: SegmentationModel, options: dict | None = None
) -> tuple[SecondOpinion, str]:
    """An independent mask to check the model against (DESIGN.md, quality): a model of the
    studio backdrop (surface, shadows) where it is plain, otherwise a segmentation of the
    mirrored photo, by the cascade model when there is one (another model errs elsewhere;
    the same one mirrored mostly repeats its mistakes)."""
    backdrop = estimate_backdrop(image, full_size=False)  # compared at its own scale
    if backdrop.is_plain and backdrop.mask is not None:
        return SecondOpinion(backdrop.mask, unsure=backdrop.unsure, shadow=backdrop.shadow), "backdrop"
    other = cascade_model(model, options or {})
    mirrored = segment(ImageOps.mirror(image), other or model).mask
    return SecondOpinion(ImageOps.mirror(mirrored)), "mirrored" if other is None else f"mirrored {other.name}"


def cascade_model(model: SegmentationModel, options: dict) -> SegmentationModel | None:
    """The stronger model to try when `model`'s cut-out is doubtful, or None: the cascade
    is off, the reviewer chose the model, it is the same model, or it is not provisioned."""
    name = settings.LIGHTBOX_CASCADE_MODEL
    if not name or options.get("model") or name == model.name:
        return None
    try:
        return get_segmentation_model(name)
    except ModelNotProvisioned as exc:
        logger.warning("cascade skipped: %s", exc)
        return None


def _cascade(
    rgb: Image.Image,
    mask: Image.Image,
    model: SegmentationModel,
    opinion: SecondOpinion,
    first: MaskComparison,
    *,
    thresholds: Thresholds,
    options: dict,
    clock: StageClock,
) -> tuple[Image.Image, SegmentationModel, dict | None, MaskComparison]:
    """Run the stronger model only where the first cut-out is doubtful (its part error,
    `first`, past half the gate's limit) and keep the mask that agrees better with the
    second opinion, returned with its comparison so the gate need not make it again."""
    if first.part_error <= thresholds.part_error_max / 2:
        return mask, model, None, first
    stronger = cascade_model(model, options)
    if stronger is None:
        return mask, model, None, first
    with clock.stage("cascade"):
        stronger_mask = segment(rgb, stronger, refine=options.get("refine_edges", True)).mask
        second = compare_masks(stronger_mask, opinion, rgb)
    record = {
        "tried": stronger.name,
        "part_error": {model.name: first.part_error, stronger.name: second.part_error},
    }
    if second.part_error < first.part_error:
        return stronger_mask, stronger, {**record, "kept": stronger.name}, second
    return mask, model, {**record, "kept": model.name}, first


def crop_ingested(ingested: IngestedImage, crop: list[int] | None) -> IngestedImage:
    """The photo cut to a reviewer's crop, given as [left, top, right, bottom] in source
    pixels and scaled here to the working image (ingest may have downscaled it)."""
    if not crop:
        return ingested
    full_w, full_h = ingested.original_size
    work_w, work_h = ingested.image.size
    left, top, right, bottom = (max(0, int(v)) for v in crop)
    right, bottom = min(right, full_w), min(bottom, full_h)
    if right <= left or bottom <= top:
        # Only reachable when the stored size disagrees with the upright one (EXIF
        # rotation): review validated the crop. ingest's codes have none closer than this.
        raise BadImage("corrupt", "The reviewer's crop lies outside the photo; reprocess without it.")
    box = (
        round(left * work_w / full_w),
        round(top * work_h / full_h),
        max(round(right * work_w / full_w), round(left * work_w / full_w) + 1),
        max(round(bottom * work_h / full_h), round(top * work_h / full_h) + 1),
    )
    return replace(ingested, image=ingested.image.crop(box), original_size=(right - left, bottom - top))


def ingest_photo(data: bytes, options: dict, clock: StageClock) -> IngestedImage:
    """A photo's bytes decoded at working size and cut to a reviewer's crop. Raises BadImage."""
    with clock.stage("ingest"):
        ingested = ingest(data, IngestLimits(working_long_side=settings.LIGHTBOX_WORKING_LONG_SIDE))
        return crop_ingested(ingested, options.get("crop"))


def needs_segmentation(ingested: IngestedImage, options: dict, hand_mask: Image.Image | None = None) -> bool:
    """Whether `judge_photo` would run the model on this photo: not for a reviewer's hand
    mask, nor for a cut-out that already has real transparency (kept unless told not to)."""
    return hand_mask is None and not (ingested.has_alpha and options.get("keep_alpha", True))


@dataclass(frozen=True)
class PredictedMask:
    """A photo's raw model mask, predicted ahead of the rest of the pipeline (in a batch,
    processing.pipelined): `SegmentationModel.predict`'s output for it."""

    model: SegmentationModel
    mask: Image.Image
    model_size: tuple[int, int]


def run_pipeline(
    data: bytes,
    *,
    thresholds: Thresholds,
    options: dict,
    clock: StageClock,
    model_name: str | None = None,
    hand_mask: Image.Image | None = None,
) -> PipelineResult:
    """All pure stages over one photo's bytes. Raises BadImage for bad input.

    The model is the reviewer's choice (options["model"]), else `model_name` (the
    category's), else the configured one; a doubtful cut-out is tried again with the
    cascade model unless the reviewer chose. A `hand_mask` (a reviewer's correction at
    the photo's full upright size) replaces segmentation altogether."""
    ingested = ingest_photo(data, options, clock)
    return judge_photo(
        ingested,
        thresholds=thresholds,
        options=options,
        clock=clock,
        model_name=model_name,
        hand_mask=hand_mask,
    )


def judge_photo(
    ingested: IngestedImage,
    *,
    thresholds: Thresholds,
    options: dict,
    clock: StageClock,
    model_name: str | None = None,
    hand_mask: Image.Image | None = None,
    predicted: PredictedMask | None = None,
) -> PipelineResult:
    """`run_pipeline` after ingest: segmentation (or the `predicted` mask, when the model
    already ran on this photo), second opinion, cascade, fill, compose and the gate."""
    rgb = ingested.image.convert("RGB")
    model = None
    cascade = None
    repair = None
    comparison = None
    if hand_mask is not None:
        # Box-reduce by the whole factor first (a 24 MP mask: 16 ms, against 120 ms to resize).
        factor = hand_mask.width // rgb.width
        mask = hand_mask.convert("L").reduce(factor) if factor > 1 else hand_mask.convert("L")
        mask = mask if mask.size == rgb.size else mask.resize(rgb.size, Image.Resampling.BILINEAR)
        second, second_kind = None, "hand"
    # A studio cut-out that already has real transparency keeps it: re-segmenting only loses edges.
    elif not needs_segmentation(ingested, options):
        mask = ingested.image.getchannel("A")
        second, second_kind = None, "none"
    else:
        refine = options.get("refine_edges", True)
        if predicted is None:
            model = get_segmentation_model(options.get("model") or model_name)
            with clock.stage("segment"):
                mask = segment(rgb, model, refine=refine).mask
        else:
            model = predicted.model
            with clock.stage("segment"):
                mask = segmentation_from(predicted.mask, rgb.size, predicted.model_size, refine=refine).mask
        with clock.stage("second_opinion"):
            second, second_kind = second_opinion_mask(rgb, model, options)
            comparison = compare_masks(mask, second, rgb)
        # A second opinion made by the cascade model cannot judge that model's own mask.
        if not second_kind.startswith("mirrored "):
            mask, model, cascade, comparison = _cascade(
                rgb, mask, model, second, comparison, thresholds=thresholds, options=options, clock=clock
            )
        if second_kind == "backdrop" and comparison.missing > thresholds.part_error_max / 2:
            with clock.stage("fill"):
                filled = fill_missing_parts(mask, second, rgb)
                if filled is not None:
                    mask = filled.mask
                    comparison = compare_masks(mask, second, rgb)
                    repair = {"filled": round(filled.share, 3), "at": filled.where}
    with clock.stage("compose"):
        try:
            master = compose_master(rgb, mask)
        except ValueError:  # nothing in the mask: the gate reports empty_mask
            master = None
    with clock.stage("quality"):
        report = assess(
            rgb,
            mask,
            original_size=ingested.original_size,
            second_mask=second,
            master=master.image if master else None,
            thresholds=thresholds,
            comparison=comparison,
        )
    return PipelineResult(ingested, mask, master, report, model, second_kind, cascade, repair)


# dHash bits two photos may differ by and still be "the same picture" (re-encoded, resized).
NEAR_DUPLICATE_BITS = 6


def _near_duplicate_of(version: ImageVersion, phash: str) -> int | None:
    """Position of another photo of the same product that looks the same, if any."""
    source = version.source
    SourceImage.objects.filter(pk=source.pk).update(perceptual_hash=phash)
    siblings = (
        SourceImage.objects.filter(product_id=source.product_id)
        .exclude(pk=source.pk)
        .exclude(perceptual_hash="")
    )
    for position, other in siblings.values_list("position", "perceptual_hash"):
        if hamming_distance(phash, other) <= NEAR_DUPLICATE_BITS:
            return position
    return None


def _persist(version: ImageVersion, result: PipelineResult, clock: StageClock) -> None:
    with clock.stage("save"):
        version.mask.save(f"{version.pk}.png", ContentFile(encode_png(result.mask)), save=False)
        if result.master is not None:
            version.master.save(f"{version.pk}.png", ContentFile(encode_png(result.master.image)), save=False)
    model = result.model
    fields = {
        "mask": version.mask.name,
        "master": version.master.name,
        "timings_ms": clock.timings_ms,
        "compute_seconds": round(clock.cpu_seconds, 3),
        "compute_device": model.device if model else "cpu",
        "model_name": model.name if model else "",
        "model_sha256": model.sha256 if model else "",
        "options": {
            **version.options,
            "second_opinion": result.second_opinion,
            "cascade": result.cascade,
            "repair": result.repair,
            "near_duplicate_of": _near_duplicate_of(version, result.ingested.perceptual_hash),
        },
    }
    # Only while still PROCESSING: a sweeper that requeued us meanwhile wins.
    ImageVersion.objects.filter(pk=version.pk, status=ImageVersion.Status.PROCESSING).update(**fields)


def _route(version: ImageVersion, report: QualityReport) -> str:
    reasons = report.reasons_json()
    # A reviewer's mask correction is their approval: it renders whatever the score says.
    if report.passed or version.hand_mask:
        version.pass_quality_gate(report.score, reasons)
        # A hand-fixed mask is a reviewer's save they are waiting on: the interactive queue.
        jobs.queue_rendering(version, interactive=bool(version.hand_mask))
        return "passed"
    version.flag(report.score, reasons)
    return "flagged"


def _thresholds(version: ImageVersion) -> Thresholds:
    """The category's thresholds, with a reviewer's pass score for this version (a reprocess) on top."""
    thresholds = thresholds_for(version.source.product.category)
    pass_score = version.options.get("pass_score")
    if isinstance(pass_score, int) and not isinstance(pass_score, bool) and 0 <= pass_score <= 100:
        thresholds = replace(thresholds, pass_score=pass_score)
    return thresholds


def _hand_mask(version: ImageVersion) -> Image.Image | None:
    if not version.hand_mask:
        return None
    with version.hand_mask.open("rb") as fh, Image.open(fh) as image:
        # Full size: a 24 MP mask is within Pillow's bomb limit, and review checked its size.
        image.load()
        return image.convert("L")


def process_version(version_id: str) -> str:
    """Run the pipeline for one queued version and route it. Safe to run twice."""
    version = ImageVersion.objects.select_related("source__product").filter(pk=version_id).first()
    if version is None:
        logger.warning("process_version %s: no such version", version_id)
        return "missing"
    add_to_job_context(version_id=str(version.pk), batch_id=version.source.batch_id)
    try:
        if not version.claim_for_processing(worker_name()):
            return "already processing"
    except InvalidTransition:
        return f"nothing to do ({version.status})"

    clock = StageClock()
    if version.is_derived:
        return _process_derived(version, clock)
    try:
        with version.source.file.open("rb") as fh:
            data = fh.read()
        result = run_pipeline(
            data,
            thresholds=_thresholds(version),
            options=version.options,
            clock=clock,
            model_name=model_for(version.source.product.category),
            hand_mask=_hand_mask(version),
        )
        _persist(version, result, clock)
        outcome = _route(version, result.report)
        metrics.record_stage_timings(clock.timings_ms)
        metrics.record_gate_decision(outcome, [reason["code"] for reason in result.report.reasons_json()])
    except BadImage as exc:
        version.fail(str(exc))
        logger.info("process_version %s failed permanently (%s): %s", version_id, exc.code, exc)
        return "failed"
    except InvalidTransition as exc:
        logger.info("process_version %s: state moved on meanwhile (%s)", version_id, exc)
        return "superseded"
    except Exception as exc:  # noqa: BLE001 - every other error is transient by design
        if (what := outages.outage_of(exc)) is not None:
            return _wait_for_outage(version, exc, what)
        return _retry_or_give_up(version, exc)
    logger.info("process_version %s %s score=%s %s", version_id, outcome, result.report.score, clock.line())
    return outcome


def _process_derived(version: ImageVersion, clock: StageClock) -> str:
    """A scene or ghost version (processing.derived): the kind's stage instead of the
    cut-out pipeline, with the same failure, outage and retry handling."""
    from processing.derived import process_derived

    try:
        outcome, score = process_derived(version, clock)
        metrics.record_stage_timings(clock.timings_ms)
    except BadImage as exc:
        version.fail(str(exc))
        logger.info("process_version %s (%s) failed permanently: %s", version.pk, version.kind, exc)
        return "failed"
    except InvalidTransition as exc:
        logger.info("process_version %s: state moved on meanwhile (%s)", version.pk, exc)
        return "superseded"
    except Exception as exc:  # noqa: BLE001 - every other error is transient by design
        if (what := outages.outage_of(exc)) is not None:
            return _wait_for_outage(version, exc, what)
        return _retry_or_give_up(version, exc)
    logger.info(
        "process_version %s %s %s score=%s %s", version.pk, version.kind, outcome, score, clock.line()
    )
    return outcome


def _wait_for_outage(version: ImageVersion, exc: Exception, what: str) -> str:
    """Back to QUEUED, to run again after a long wait; the attempt does not count. If the
    database itself is still down this raises, and the sweeper rescues the version later."""
    message = f"{type(exc).__name__}: {exc}"[:1500]
    version.refresh_from_db(fields=["outage_retries", "status"])
    if outages.exhausted(version.outage_retries):
        version.fail(f"gave up after {version.outage_retries} outages; {what}: {message}")
        logger.error("process_version %s gave up after outages: %s", version.pk, message)
        return "failed"
    retry_at = outages.next_try(version.outage_retries)
    try:
        version.wait_for_outage(
            f"{what}; trying again at {timezone.localtime(retry_at):%H:%M} ({message})", retry_at
        )
    except InvalidTransition:
        # It moved on before the outage hit (Redis down while queueing its render: it is
        # RENDERING, and the sweeper queues the render once Redis is back).
        logger.warning("process_version %s: %s after it became %s", version.pk, what, version.status)
        return f"state moved on ({version.status})"
    logger.warning("process_version %s: %s, retrying at %s: %s", version.pk, what, retry_at, message)
    # Redis may be the thing that is down: the sweeper queues it at retry_at if this fails.
    try:
        jobs.queue_processing(version, at=retry_at)
    except Exception:  # noqa: BLE001 - PostgreSQL holds retry_at; the sweeper is the backstop
        logger.warning("process_version %s: could not schedule the retry; the sweeper will", version.pk)
    return "waiting for an outage"


def _retry_or_give_up(version: ImageVersion, exc: Exception) -> str:
    message = f"{type(exc).__name__}: {exc}"[:2000]
    version.refresh_from_db(fields=["attempts", "status"])
    if version.attempts >= settings.LIGHTBOX_MAX_ATTEMPTS:
        version.fail(f"gave up after {version.attempts} attempts; last error: {message}")
        logger.exception("process_version %s gave up", version.pk)
        return "failed"
    version.requeue(error=f"attempt {version.attempts} failed, will retry: {message}")
    # Re-raised so RQ's Retry schedules the next attempt with backoff.
    raise exc
