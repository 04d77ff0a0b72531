"""Many photos through one process and one model session, the stages overlapped.

`manage.py process_images --batch-size N` runs this (in each of its --workers processes):

    read + ingest + model input and tensor   (a pool of threads, a few photos ahead)
        -> inference               (this thread: N photos per session run, little else)
        -> the rest of the pipeline and the files (a pool of threads)

Decoding, resizing, PNG encoding and much of numpy and scipy release the GIL, so the
threads' work overlaps the session run; the aim on a GPU is a device that never waits
for a photo (never run on one).
Both queues are bounded (`ahead` photos prepared, twice `threads` being finished), so
memory does not grow with the number of inputs. Each photo fails alone: a file that is
not a photo, or an error in its own stages, fails its report and the others go on; a
session run that fails is retried one photo at a time so only the photo that breaks
it fails.

The masks are the ones `process_file` makes (the same model inputs, and a batched run
gives each photo the mask a run of it alone gives). Only the first segmentation is
batched: a mirrored second opinion runs in the finishing threads on the same
(thread-safe) session, a cascade on its own model's, one photo at a time.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from processing.batch_cli import FileReport, failed_report, init_worker, output_names, save_outputs
from processing.jobs import PredictedMask, StageClock, ingest_photo, judge_photo, needs_segmentation
from processing.pipeline.ingest import BadImage, IngestedImage
from processing.pipeline.quality import Thresholds
from processing.pipeline.segment import SegmentationModel, model_input, model_tensor

logger = logging.getLogger("lightbox.pipelined")


@dataclass
class _Photo:
    path: str
    name: str
    # When the photo entered the pipeline: its report's seconds count its waits in the queues.
    started: float = field(default_factory=time.perf_counter)
    clock: StageClock = field(default_factory=StageClock)
    ingested: IngestedImage | None = None
    model_input: Image.Image | None = None  # None: the model is not run on this photo
    tensor: np.ndarray | None = None  # the model input as the session takes it (U²-Net family)
    failure: FileReport | None = None


@dataclass(frozen=True)
class PipelineOptions:
    """How a pipelined run goes, and what every photo of it shares (picklable: it goes to
    pool processes too)."""

    batch_size: int  # photos per session run
    threads: int  # threads that prepare photos, and as many that finish them
    save_masks: bool
    thresholds: dict
    recipes: tuple = ()


@dataclass(frozen=True)
class _Run:
    model: SegmentationModel
    out: Path
    options: PipelineOptions


def _crashed(photo: _Photo, exc: Exception) -> FileReport:
    return FileReport(
        photo.path,
        "failed",
        error=f"{type(exc).__name__}: {exc}",
        seconds=time.perf_counter() - photo.started,
    )


def _prepare(photo: _Photo, model: SegmentationModel) -> _Photo:
    try:
        data = Path(photo.path).read_bytes()
        photo.ingested = ingest_photo(data, {}, photo.clock)
        if needs_segmentation(photo.ingested, {}):
            with photo.clock.stage("model_input"):
                photo.model_input = model_input(photo.ingested.image, model)
                # Made here, not on the session's thread: 3.5 ms a photo that would
                # otherwise stand between the device's runs.
                if model.takes_tensors:
                    photo.tensor = model_tensor(photo.model_input)
    except (BadImage, OSError) as exc:
        photo.failure = failed_report(photo.path, exc, photo.started)
    except Exception as exc:  # noqa: BLE001 - a photo that crashes a stage fails alone
        photo.failure = _crashed(photo, exc)
    return photo


def _finish(photo: _Photo, mask: Image.Image | None, run: _Run) -> FileReport:
    if photo.ingested is None:
        raise ValueError("only a prepared photo can be finished")
    predicted = None
    if mask is not None and photo.model_input is not None:
        predicted = PredictedMask(run.model, mask, photo.model_input.size)
    try:
        result = judge_photo(
            photo.ingested,
            thresholds=Thresholds.from_dict(run.options.thresholds),
            options={},
            clock=photo.clock,
            predicted=predicted,
        )
        return save_outputs(
            result,
            photo.path,
            photo.name,
            run.out,
            photo.clock,
            photo.started,
            save_masks=run.options.save_masks,
            recipes=run.options.recipes,
        )
    except (BadImage, OSError) as exc:
        return failed_report(photo.path, exc, photo.started)
    except Exception as exc:  # noqa: BLE001 - a photo that crashes a stage fails alone
        return _crashed(photo, exc)


def _predict(model: SegmentationModel, batch: list[_Photo]) -> list[tuple[_Photo, Image.Image | None]]:
    """Each photo with its raw mask, from one session run; when that run fails, one run per
    photo, and a photo whose own run fails gets no mask (and a failed report)."""
    started = time.perf_counter()
    try:
        masks: list[Image.Image | None] = list(_run(model, batch))
    except Exception:  # noqa: BLE001 - find the photo that breaks the run; the others go on
        logger.warning("a batch of %d failed; running its photos one at a time", len(batch), exc_info=True)
        masks = []
        for photo in batch:
            try:
                masks.extend(_run(model, [photo]))
            except Exception as exc:  # noqa: BLE001 - this photo fails, not the run
                photo.failure = _crashed(photo, exc)
                masks.append(None)
    # The run's time shared equally: per photo, what the run cost it.
    share = round((time.perf_counter() - started) * 1000 / len(batch))
    for photo in batch:
        photo.clock.timings_ms["inference"] = share
    return list(zip(batch, masks, strict=True))


def _run(model: SegmentationModel, photos: list[_Photo]) -> list[Image.Image]:
    if model.takes_tensors:
        return model.predict_tensors([photo.tensor for photo in photos if photo.tensor is not None])
    return model.predict([photo.model_input for photo in photos if photo.model_input is not None])


def process_pipelined(
    jobs: list[tuple[str, str]], out: Path, model: SegmentationModel, options: PipelineOptions
) -> Iterator[FileReport]:
    """One report per (path, output name) in `jobs`, in order of completion, the model
    run `options.batch_size` photos at a time on `model` (a batched session when that is
    more than 1), photos prepared and finished on `options.threads` threads each."""
    batch_size, threads = options.batch_size, options.threads
    if batch_size < 1 or threads < 1:
        raise ValueError("batch_size and threads must be at least 1")
    run = _Run(model, out, options)
    waiting = iter(jobs)
    ahead = batch_size + threads  # photos decoded ahead of the session
    preparing: deque[Future[_Photo]] = deque()
    finishing: deque[Future[FileReport]] = deque()
    batch: list[_Photo] = []
    with (
        ThreadPoolExecutor(threads, thread_name_prefix="prepare") as prepare_pool,
        ThreadPoolExecutor(threads, thread_name_prefix="finish") as finish_pool,
    ):

        def top_up() -> None:
            while len(preparing) < ahead and (job := next(waiting, None)) is not None:
                preparing.append(prepare_pool.submit(_prepare, _Photo(*job), model))

        def finish(photo: _Photo, mask: Image.Image | None) -> Iterator[FileReport]:
            if photo.failure is not None:
                yield photo.failure
                return
            finishing.append(finish_pool.submit(_finish, photo, mask, run))
            # Bounded: past twice the threads, wait for the oldest before taking more.
            while len(finishing) > 2 * threads or (finishing and finishing[0].done()):
                yield finishing.popleft().result()

        top_up()
        while preparing or batch:
            if preparing:
                future = preparing.popleft()
                top_up()
                photo = future.result()
                if photo.failure is not None or photo.model_input is None:
                    yield from finish(photo, None)
                else:
                    batch.append(photo)
            if batch and (len(batch) == batch_size or not preparing):
                for photo, mask in _predict(model, batch):
                    yield from finish(photo, mask)
                batch = []
        while finishing:
            yield finishing.popleft().result()


# This process's session for `_run_share`, made on its first share (never across fork: the
# pool spawns its processes).
_session: dict[int, SegmentationModel] = {}


def load_batch_model(batch_size: int) -> SegmentationModel:
    """The configured model for a pipelined run, batched when batch_size > 1; its line logged."""
    from django.conf import settings

    from processing.model_cache import onnx_threads
    from processing.pipeline.segment import load_model

    model = load_model(
        settings.LIGHTBOX_MODEL_NAME,
        settings.LIGHTBOX_MODEL_DIR,
        settings.LIGHTBOX_ONNX_PROVIDERS,
        threads=onnx_threads(),
        batched=batch_size > 1,
        # The decoding and finishing threads need the cores between session runs: 8 photos
        # of 12 MP took 11.3 CPU seconds with spinning off against 13.7-14.7 with it on.
        spin=False,
    )
    logger.info(
        "pipelined: model %s sha256=%s providers=%s batch=%d onnx_threads=%d in %.2fs",
        model.name,
        model.sha256[:12],
        ",".join(model.providers),
        batch_size,
        onnx_threads(),
        model.load_seconds,
    )
    return model


def _run_share(jobs: list[tuple[str, str]], out: Path, options: PipelineOptions) -> list[FileReport]:
    """One share of the inputs, pipelined in a pool process on that process's session."""
    pid = os.getpid()
    if pid not in _session:
        _session.clear()
        _session[pid] = load_batch_model(options.batch_size)
    return list(process_pipelined(jobs, out, _session[pid], options))


def process_files_pipelined(
    inputs: list[str], out_dir: Path, options: PipelineOptions, *, workers: int = 1
) -> Iterator[FileReport]:
    """`process_files`' reports for `inputs`, pipelined (`process_pipelined`): in this
    process, or with `workers` > 1 in that many spawned processes, each with its own
    session (all on one GPU, with a CUDA provider), each pipelining its share. The inputs
    go out in shares of a few batches, so the processes stay evenly busy and the reports
    come back as shares finish."""
    jobs = output_names(inputs, out_dir, save_masks=options.save_masks)
    if workers <= 1:
        yield from process_pipelined(jobs, out_dir, load_batch_model(options.batch_size), options)
        return
    batch_size = options.batch_size
    share = batch_size * max(1, math.ceil(len(jobs) / (workers * 4 * batch_size)))
    shares = [jobs[i : i + share] for i in range(0, len(jobs), share)]
    onnx_threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=init_worker,
        initargs=(onnx_threads,),
    ) as pool:
        futures = {pool.submit(_run_share, part, out_dir, options): part for part in shares}
        for future in as_completed(futures):
            try:
                yield from future.result()
            except Exception as exc:  # noqa: BLE001 - a crashed process fails its share, not the run
                for path, _ in futures[future]:
                    yield FileReport(path, "failed", error=f"{type(exc).__name__}: {exc}")
