"""The scene kind of derived master (processing.derived): a published cut-out put into a
scene template (catalog.scenes), with the scene's own gate.

Gate: the product lies inside the template's placement area, the frame clips none of it,
and its scale is plausible (no taller than the room above the surface line, not a speck
in it, and the cut-out's proportions agree with the product's dimensions when both are
given). A doubtful scene is flagged for a reviewer like a doubtful cut-out.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PIL import Image

from catalog.models import ImageVersion
from catalog.scenes.models import SceneTemplate
from processing.derived import DerivedOutput
from processing.pipeline.ingest import BadImage
from processing.pipeline.scene import Placement, ProductSize, SceneComposite, composite
from processing.pipeline.spec import RenditionSpec

if TYPE_CHECKING:
    from processing.jobs import StageClock

# Pixels the product may stray past the placement area (anti-aliased edges).
AREA_TOLERANCE = 2
# A product narrower than this share of the area is a speck in the scene.
MIN_AREA_SHARE = 0.03
# Cut-out proportions against the product's width/height: beyond this, one of them is wrong.
ASPECT_TOLERANCE = 0.25
REASON_PENALTY = 40


def placement_of(template: SceneTemplate) -> Placement:
    return Placement(
        area=template.area,
        surface_y=template.surface_y,
        light_side=template.light_side,
        area_width_cm=template.area_width_cm,
        default_share=template.default_share,
    )


@functools.lru_cache(maxsize=4)
def _scene_image(name: str, revision: int) -> Image.Image:
    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as fh, Image.open(fh) as image:
        image.load()
        return image.convert("RGB")


def scene_image(template: SceneTemplate) -> Image.Image:
    """The template's photo, decoded once per worker while its file and markings stay the same."""
    if not template.image:
        raise BadImage("corrupt", "The scene template has no photo.")
    return _scene_image(template.image.name, template.revision)


def scene_checks(
    result: SceneComposite, placement: Placement, size: ProductSize, cutout_aspect: float
) -> list[dict[str, Any]]:
    """The scene gate's reasons (QualityReport.reasons_json's shape); none: it passes."""
    reasons: list[dict[str, Any]] = []
    left, top, right, bottom = result.intended_box
    a_left, a_top, a_right, a_bottom = placement.area
    if result.clipped:
        reasons.append(
            {
                "code": "scene_clipped",
                "message": "The scene's frame cuts off part of the product.",
                "value": None,
                "limit": None,
            }
        )
    t = AREA_TOLERANCE
    if left < a_left - t or right > a_right + t or top < a_top - t or bottom > a_bottom + t:
        reasons.append(
            {
                "code": "scene_outside_area",
                "message": "The product does not fit inside the template's placement area.",
                "value": [left, top, right, bottom],
                "limit": list(placement.area),
            }
        )
    room = placement.surface_y - a_top
    height = bottom - top
    width = right - left
    if height > room + t:
        reasons.append(
            {
                "code": "scene_scale",
                "message": "At its size the product is taller than the scene's room for it.",
                "value": height,
                "limit": room,
            }
        )
    elif width < MIN_AREA_SHARE * (a_right - a_left):
        reasons.append(
            {
                "code": "scene_scale",
                "message": "At its size the product is a speck in this scene.",
                "value": width,
                "limit": round(MIN_AREA_SHARE * (a_right - a_left)),
            }
        )
    elif size.width_cm and size.height_cm:
        expected = size.width_cm / size.height_cm
        if abs(cutout_aspect / expected - 1) > ASPECT_TOLERANCE:
            reasons.append(
                {
                    "code": "scene_scale",
                    "message": "The cut-out's proportions do not match the product's width and height.",
                    "value": round(cutout_aspect, 3),
                    "limit": round(expected, 3),
                }
            )
    return reasons


class SceneKind:
    """`processing.derived.DerivedKind` for lifestyle scenes."""

    def make(self, version: ImageVersion, cutout: Image.Image, clock: StageClock) -> DerivedOutput:
        template = version.scene_template
        if template is None:
            raise BadImage("corrupt", "The scene template of this version was deleted.")
        product = version.source.product
        placement = placement_of(template)
        size = ProductSize(product.width_cm, product.height_cm)
        with clock.stage("scene_load"):
            scene = scene_image(template)
        with clock.stage("composite"):
            try:
                result = composite(scene, cutout, placement, size)
            except ValueError as exc:
                raise BadImage("corrupt", f"The cut-out cannot be put in a scene: {exc}.") from None
        box = cutout.getchannel("A").point([0] * 128 + [255] * 128).getbbox() or (0, 0, 1, 1)
        aspect = (box[2] - box[0]) / max(1, box[3] - box[1])
        reasons = scene_checks(result, placement, size, aspect)
        return DerivedOutput(
            master=result.image,
            score=max(0, 100 - REASON_PENALTY * len(reasons)),
            reasons=reasons,
            passed=not reasons,
            info={
                # Cover crops (a square from a wide scene) keep the product in frame.
                "focus": [
                    round((result.product_box[0] + result.product_box[2]) / 2 / result.image.width, 3),
                    round((result.product_box[1] + result.product_box[3]) / 2 / result.image.height, 3),
                ],
                "scene": {
                    "template": template.pk,
                    "template_revision": template.revision,
                    "product_box": list(result.product_box),
                    "pixels_per_cm": round(result.pixels_per_cm, 4),
                    "scaled_by": "dimensions" if result.scaled_by_dimensions else "share",
                    "gains": list(result.gains),
                },
            },
        )

    def rendition_spec(self, spec: RenditionSpec) -> RenditionSpec:
        # A scene is a picture with its own background: it fills the canvas, no cut-out rules.
        return replace(spec, fit="cover", background_mode="any", background=None, shadow=False)


SCENE = SceneKind()
