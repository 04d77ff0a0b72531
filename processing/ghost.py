"""The ghost-mannequin kind of derived master (processing.derived): a published cut-out of
apparel shot on a mannequin, with the mannequin taken out and, when the product has one,
its inner shot placed into the neck opening (processing.pipeline.ghost).

The version's `options["recipe"]` says what to make (catalog.ghost writes it):
`{"mannequin": "grey" | "skin" | "green", "inner": <the inner shot's published cut-out
version id> | None}`. Gate: none of processing.pipeline.ghost.REASONS; any of them flags
the version for a reviewer with its reason in plain words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image

from catalog.models import ImageVersion, VersionStatus
from processing.derived import DerivedOutput
from processing.pipeline.ghost import REASONS, Cutout, GhostError, GhostResult, make_ghost
from processing.pipeline.ingest import BadImage
from processing.pipeline.mannequin import preset
from processing.pipeline.spec import RenditionSpec

if TYPE_CHECKING:
    from processing.jobs import StageClock

REASON_PENALTY = 25
# What each reason's value and limit are, from the pipeline's figures.
_MEASURES: dict[str, tuple[str, float | None]] = {
    "mannequin_left": ("mannequin_left_share", 0.002),
    "inner_not_placed": ("inner_cover", 0.9),
}
INNER_GONE = "The inner shot's cut-out is no longer published: the ghost was made without it."


def _split(image: Image.Image) -> Cutout:
    rgba = image.convert("RGBA")
    return Cutout(rgba.convert("RGB"), rgba.getchannel("A"))


def inner_cutout(version_id: Any) -> Image.Image | None:
    """The master of the inner shot's cut-out `version_id`, while it is published."""
    if not version_id:
        return None
    inner = ImageVersion.objects.filter(pk=version_id, status=VersionStatus.PUBLISHED).first()
    if inner is None or not inner.master:
        return None
    with inner.master.open("rb") as fh, Image.open(fh) as image:
        image.load()
        return image.convert("RGBA")


def ghost_reasons(result: GhostResult) -> list[dict[str, Any]]:
    reasons = []
    for code in result.reasons:
        figure, limit = _MEASURES.get(code, ("", None))
        reasons.append(
            {"code": code, "message": REASONS[code], "value": result.figures.get(figure), "limit": limit}
        )
    return reasons


class GhostKind:
    """`processing.derived.DerivedKind` for ghost-mannequin masters."""

    def make(self, version: ImageVersion, cutout: Image.Image, clock: StageClock) -> DerivedOutput:
        recipe = version.options.get("recipe") or {}
        try:
            colour = preset(str(recipe.get("mannequin", "")))
        except KeyError as exc:
            raise BadImage("corrupt", f"This ghost mannequin names no mannequin colour ({exc}).") from None
        inner = None
        with clock.stage("ghost_load"):
            inner_master = inner_cutout(recipe.get("inner"))
            if inner_master is not None:
                inner = _split(inner_master)
        with clock.stage("ghost"):
            try:
                result = make_ghost(_split(cutout), colour, inner)
            except GhostError as exc:
                raise BadImage("corrupt", f"No ghost mannequin can be made: {exc}") from None
        reasons = ghost_reasons(result)
        if recipe.get("inner") and inner is None:
            reasons.append({"code": "inner_not_placed", "message": INNER_GONE, "value": None, "limit": None})
        return DerivedOutput(
            master=result.master.image,
            score=max(0, 100 - REASON_PENALTY * len(reasons)),
            reasons=reasons,
            passed=not reasons,
            info={"ghost": {"mannequin": colour.name, "inner": inner is not None, **result.figures}},
        )

    def rendition_spec(self, spec: RenditionSpec) -> RenditionSpec:
        # A garment on transparency: it renders like any cut-out.
        return spec


GHOST = GhostKind()
