"""Writes behind the scene pages: a template from an uploaded photo, its markings saved."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify

from catalog.scenes.forms import TemplateMarkingForm
from catalog.scenes.models import SceneTemplate
from processing.pipeline.ingest import BadImage, IngestLimits, ingest

# Scenes are stored at most this wide or high: renditions go to 2,200 px at most, and the
# compositor's cost grows with the scene's pixels (bench/scenes.py).
MAX_SCENE_SIDE = 2400


class TemplateRefused(ValueError):
    """The photo cannot be a scene (not an image, or unreadable); the message says why."""


def create_template(name: str, data: bytes, user: Any) -> SceneTemplate:
    """A template from an admin's photo, with starting markings to adjust on the page."""
    try:
        ingested = ingest(data, IngestLimits(working_long_side=MAX_SCENE_SIDE))
    except BadImage as exc:
        raise TemplateRefused(str(exc)) from None
    image = ingested.image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    width, height = image.size
    base = slugify(name)[:50] or "scene"
    slug, n = base, 1
    while SceneTemplate.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    template = SceneTemplate(
        name=name,
        slug=slug,
        width=width,
        height=height,
        area_left=round(width * 0.25),
        area_top=round(height * 0.2),
        area_right=round(width * 0.75),
        area_bottom=round(height * 0.85),
        surface_y=round(height * 0.8),
        area_width_cm=100.0,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    with transaction.atomic():
        template.image.save(f"{slug}.png", ContentFile(buffer.getvalue()), save=False)
        template.save()
    return template


def save_markings(form: TemplateMarkingForm) -> SceneTemplate:
    """Save the marked template; its revision goes up so scenes made from now on use it."""
    template: SceneTemplate = form.save()
    SceneTemplate.objects.filter(pk=template.pk).update(revision=F("revision") + 1)
    template.refresh_from_db(fields=["revision"])
    return template
