"""The processing stage of derived masters (catalog.derived): a scene or ghost version is
made from its cut-out's master by its kind's stage, gated by the kind's own checks, then
flagged or rendered like any version.

A kind plugs in with one entry in KIND_PATHS, the dotted path of an object with:

- `make(version, cutout, clock) -> DerivedOutput`: the master made from `cutout` (the
  published cut-out's master, "RGBA") with its score and gate reasons. Pure work lives in
  processing/pipeline/; raise `BadImage` for input that can never work (failed at once,
  never retried); anything else is retried like any processing error.
- `rendition_spec(spec) -> spec`: the profile's spec as this kind renders it (a scene
  fills the canvas, `fit-cover`; a ghost mannequin renders like a cut-out: return `spec`).
  A cover fit is cropped around `info["focus"]` ([x, y] shares of the master) when the
  kind gives one.

process_version (processing.jobs) claims the version, counts the attempt and handles
outages and retries; it calls `process_derived` for every kind but "cutout".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from django.core.files.base import ContentFile
from django.utils.module_loading import import_string
from PIL import Image

from catalog.models import ImageVersion
from lightbox import jobs
from processing.pipeline.ingest import BadImage
from processing.pipeline.png import encode_png
from processing.pipeline.spec import RenditionSpec

if TYPE_CHECKING:
    from processing.jobs import StageClock

logger = logging.getLogger("lightbox.jobs")

# kind → the object that makes it (the DerivedKind protocol below).
KIND_PATHS: dict[str, str] = {
    "scene": "processing.scenes.SCENE",
    "ghost": "processing.ghost.GHOST",
}


@dataclass(frozen=True)
class DerivedOutput:
    master: Image.Image  # "RGB" or "RGBA"
    score: int  # 0..100
    # Gate reasons, as QualityReport.reasons_json writes them: {"code", "message", "value", "limit"}.
    reasons: list[dict[str, Any]] = field(default_factory=list)
    passed: bool = True  # False: flagged for a reviewer
    info: dict[str, Any] = field(default_factory=dict)  # measurements kept in version.options


class DerivedKind(Protocol):
    def make(self, version: ImageVersion, cutout: Image.Image, clock: StageClock) -> DerivedOutput: ...

    def rendition_spec(self, spec: RenditionSpec) -> RenditionSpec: ...


def kind_for(kind: str) -> DerivedKind:
    try:
        path = KIND_PATHS[kind]
    except KeyError:
        raise ValueError(f"no stage for versions of kind {kind!r}") from None
    found: DerivedKind = import_string(path)
    return found


def open_cutout(version: ImageVersion) -> Image.Image:
    """The master of the cut-out `version` is derived from, decoded ("RGBA")."""
    base = version.derived_from
    if base is None or not base.master:
        raise BadImage("corrupt", "The cut-out this version is made from has no master any more.")
    with base.master.open("rb") as fh, Image.open(fh) as image:
        image.load()
        return image.convert("RGBA")


def process_derived(version: ImageVersion, clock: StageClock) -> tuple[str, int]:
    """Make, store and gate a claimed (PROCESSING) derived version: ("passed" | "flagged", score)."""
    kind = kind_for(version.kind)
    with clock.stage("load"):
        cutout = open_cutout(version)
    output = kind.make(version, cutout, clock)
    with clock.stage("save"):
        version.master.save(f"{version.pk}.png", ContentFile(encode_png(output.master)), save=False)
    options = {**version.options, **output.info, "size": [output.master.width, output.master.height]}
    # Only while still PROCESSING: a sweeper that requeued us meanwhile wins.
    ImageVersion.objects.filter(pk=version.pk, status=ImageVersion.Status.PROCESSING).update(
        master=version.master.name,
        timings_ms=clock.timings_ms,
        compute_seconds=round(clock.cpu_seconds, 3),
        compute_device="cpu",
        options=options,
    )
    version.options = options
    if output.passed:
        version.pass_quality_gate(output.score, output.reasons)
        jobs.queue_rendering(version)
        return "passed", output.score
    version.flag(output.score, output.reasons)
    return "flagged", output.score


def rendition_spec(version: ImageVersion, spec: RenditionSpec) -> RenditionSpec:
    """`spec` as `version`'s kind renders it."""
    if not version.is_derived:
        return spec
    spec = kind_for(version.kind).rendition_spec(spec)
    focus = (version.options or {}).get("focus")
    if spec.cover and isinstance(focus, list) and len(focus) == 2:
        spec = replace(spec, focus=(float(focus[0]), float(focus[1])))
    return spec
