"""A reviewer's correction of a cut-out: one-click fixes and a saved mask as a new version.

The editor (static/js/mask_editor.js) paints at a working resolution and uploads the mask
at the photo's full upright size, so what is stored is what the reviewer saw, at the size
every later step expects. Saving is a decision like approve: the flagged version is
superseded (a guarded transition, refused like the others when someone decided first) and
a new version carrying the hand mask is queued; processing uses that mask instead of
segmenting (processing.jobs.run_pipeline) and the reviewer's save is its approval, so it
renders and publishes where its renditions pass.

Fixes are stateless: the current mask in, the fixed mask out (processing.pipeline.mask_ops),
nothing stored until the reviewer saves.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from functools import partial
from typing import Any

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from PIL import Image, UnidentifiedImageError

from catalog.models import ImageVersion, SourceImage
from lightbox import jobs
from processing.pipeline import mask_ops
from processing.pipeline.backdrop import estimate_backdrop
from processing.pipeline.ingest import BadImage, IngestLimits, ingest
from processing.pipeline.png import encode_png
from review.models import ReviewDecision
from review.services import InvalidDecision, StaleDecision, _decide

logger = logging.getLogger("lightbox.review")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# What a save may say about how the mask was made; "model" is only ever the pipeline's.
SAVED_SOURCES = (ImageVersion.MaskSource.HAND, ImageVersion.MaskSource.MODEL_FIX)
MASK_OPS = ("fill_holes", "keep_largest", "keep_clicked", "drop_shadow", "grow_at")
# The editor's working long side: a 24 MP photo paints on a 6 MP canvas, as the
# pipeline works on it (LIGHTBOX_WORKING_LONG_SIDE's default).
EDITOR_LONG_SIDE = 3000
# Inclusive bounds a fix's mask is held to (the editor's canvas is at most this size).
FIX_MAX_SIDE = 4096


def upright_size(source: SourceImage) -> tuple[int, int]:
    """The photo's full size as it is shown (EXIF orientation applied): the mask's size."""
    try:
        with source.file.open("rb") as fh, Image.open(fh) as image:
            orientation = image.getexif().get(0x0112, 1)
            width, height = image.size
    except (OSError, UnidentifiedImageError):
        return source.width, source.height
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def editor_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, EDITOR_LONG_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def read_mask(
    data: bytes, size: tuple[int, int] | None = None, *, max_side: int | None = None
) -> Image.Image:
    """The uploaded mask as an "L" image (255 product), or InvalidDecision saying what is wrong.

    A PNG only; its alpha channel is the mask when it has one (a canvas export), else its
    grey level. `size`: the exact size it must have; `max_side`: a bound instead. Refused
    when nothing in it is product."""
    if not data:
        raise InvalidDecision("No mask was sent.")
    if not data.startswith(PNG_MAGIC):
        raise InvalidDecision("The mask is not a PNG image.")
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if size is not None and (width, height) != tuple(size):
            raise InvalidDecision(
                f"The mask is {width}×{height} px; it must be the photo's full size, {size[0]}×{size[1]} px."
            )
        if max_side is not None and max(width, height) > max_side:
            raise InvalidDecision(f"The mask is {width}×{height} px, more than {max_side} px on a side.")
        image.load()
    except InvalidDecision:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InvalidDecision("The mask could not be read as a PNG image.") from None
    mask = image.getchannel("A") if "A" in image.getbands() else image.convert("L")
    brightest = mask.getextrema()[1]  # one band: (min, max) numbers
    if isinstance(brightest, int | float) and brightest < mask_ops.ON:
        raise InvalidDecision("The mask is empty: paint the product before saving.")
    return mask


def _successor_options(old: ImageVersion, mask_source: str, fixes: list[str]) -> dict[str, Any]:
    """The new version keeps the reviewer's render choices; the crop and model go: the mask
    covers the whole photo, and no model runs."""
    kept = {k: v for k, v in (old.options or {}).items() if k in ("shadow", "pass_score", "refine_edges")}
    return {**kept, "mask_source": mask_source, "fixes": fixes, "corrected_from": old.number}


def do_correct_mask(
    version_id: Any,
    reviewer: Any,
    data: bytes,
    *,
    mask_source: str = ImageVersion.MaskSource.HAND,
    fixes: list[str] | None = None,
) -> ImageVersion:
    """Save a reviewer's mask for a flagged version: the version is superseded by a new one
    (number + 1) made from this mask, queued once the decision commits.

    Refused with nothing changed (InvalidDecision) when the mask is not a PNG, not the photo's
    full upright size or empty; StaleDecision when the version was decided meanwhile or
    another reviewer holds it. Returns the new, QUEUED version."""
    started = time.perf_counter()
    if mask_source not in SAVED_SOURCES:
        raise InvalidDecision("Say how the mask was made: by hand or with a fix.")
    fixes = [f for f in (fixes or []) if f in (*MASK_OPS, "brush")][:50]
    old = ImageVersion.objects.select_related("source").filter(pk=version_id).first()
    if old is None:
        raise StaleDecision("This item no longer exists.")
    if old.status not in ImageVersion.REVIEWABLE_STATES:
        raise StaleDecision(f"This item was already decided: it is now {old.get_status_display().lower()}.")
    if old.is_derived:
        raise InvalidDecision("A scene or ghost version has no mask of its own: correct its cut-out instead.")
    mask = read_mask(data, upright_size(old.source))
    # Stored before the decision (a 24 MP PNG is not written inside a row lock) and
    # removed again if the decision is refused.
    # The editor sends a grey PNG: kept byte for byte (re-encoding 24 MP costs ~150 ms).
    stored = data if Image.open(io.BytesIO(data)).mode == "L" else encode_png(mask)
    name = default_storage.save(f"hand_masks/{uuid.uuid4()}.png", ContentFile(stored))
    created: list[ImageVersion] = []

    def make_successor(version: ImageVersion) -> None:
        cutouts = ImageVersion.objects.filter(source_id=version.source_id, lineage="")
        latest = cutouts.aggregate(n=Max("number"))["n"]
        new = ImageVersion.objects.create(
            source=version.source,
            parent=version,
            number=(latest or version.number) + 1,
            priority=version.priority,
            options=_successor_options(version, mask_source, fixes),
            hand_mask=name,
            mask_source=mask_source,
            mask_by=reviewer,
        )
        created.append(new)
        transaction.on_commit(partial(jobs.queue_processing, new))

    try:
        _decide(
            version_id,
            reviewer,
            ReviewDecision.Action.CORRECT,
            "supersede",
            options={"mask_source": mask_source, "fixes": fixes},
            then=make_successor,
        )
    except BaseException:
        default_storage.delete(name)
        raise
    logger.info(
        "correct_mask %s -> %s %s %dx%d save=%dms",
        version_id,
        created[0].pk,
        mask_source,
        *mask.size,
        (time.perf_counter() - started) * 1000,
    )
    return created[0]


# --- one-click fixes ------------------------------------------------------------------


def _photo_at(source: SourceImage, size: tuple[int, int]) -> np.ndarray:
    """The source photo, upright and sRGB, at `size` (the editor's mask size)."""
    with source.file.open("rb") as fh:
        data = fh.read()
    try:
        ingested = ingest(data, IngestLimits(working_long_side=max(size)))
    except BadImage as exc:
        raise InvalidDecision(f"The photo cannot be read for this fix: {exc}") from None
    rgb = ingested.image.convert("RGB")
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(rgb)


def _points(raw: Any) -> list[tuple[int, int]]:
    try:
        return [(int(x), int(y)) for x, y in raw][:50]
    except (TypeError, ValueError):
        raise InvalidDecision("Points are [x, y] pairs in mask pixels.") from None


def apply_fix(version: ImageVersion, op: str, data: bytes, points: Any = ()) -> bytes:
    """The mask `data` (the editor's working mask, a PNG) with fix `op` applied, as a grey PNG
    of the same size. InvalidDecision when the fix does not apply, with why."""
    if op not in MASK_OPS:
        raise InvalidDecision("Unknown fix.")
    mask_image = read_mask(data, max_side=FIX_MAX_SIDE)
    mask = np.asarray(mask_image, dtype=np.uint8)
    pts = _points(points or [])
    try:
        if op == "fill_holes":
            fixed = mask_ops.fill_holes(mask)
        elif op == "keep_largest":
            fixed = mask_ops.keep_largest(mask)
        elif op == "keep_clicked":
            fixed = mask_ops.keep_clicked(mask, pts)
        elif op == "drop_shadow":
            backdrop = estimate_backdrop(Image.fromarray(_photo_at(version.source, mask_image.size)))
            if backdrop.shadow is None:
                raise InvalidDecision(
                    "The backdrop is too busy to tell its shadow apart; remove it with the brush (x)."
                )
            fixed = mask_ops.drop_shadow(mask, np.asarray(backdrop.shadow) >= mask_ops.ON)
        else:
            if not pts:
                raise InvalidDecision("Click on the part to take back.")
            fixed = mask_ops.grow_at(mask, _photo_at(version.source, mask_image.size), pts[0])
    except mask_ops.MaskOpError as exc:
        raise InvalidDecision(str(exc)) from None
    return encode_png(Image.fromarray(fixed, mode="L"))


def suggested_fixes(reasons: list[dict[str, Any]] | None) -> list[str]:
    """The fixes the version's quality reasons call for, in the order of the reasons."""
    out: list[str] = []
    for reason in reasons or []:
        for fix in mask_ops.FIXES_FOR_REASON.get(str(reason.get("code", "")), ()):
            if fix not in out:
                out.append(fix)
    return out


def editor_context(version: ImageVersion) -> dict[str, Any]:
    """What the editor needs to start: the photo's full size, the working size, where the
    current mask lies in the photo (a crop reprocess's mask covers only its crop)."""
    full = upright_size(version.source)
    crop = (version.options or {}).get("crop")
    box = crop if isinstance(crop, list) and len(crop) == 4 else [0, 0, *full]
    return {
        "full_size": full,
        "work_size": editor_size(full),
        "mask_box": box,
        "suggested": suggested_fixes(version.reasons),
    }
